# Copyright (c) mmpathseg contributors. All rights reserved.
from .cellvta_adapter import CellVTAAdapter
from .sam_vit import SAMViT
from .vit_uni import UNIViT
from .sam_med2d_adapter import SAMAdapterViT, SAMMed2DAdapter
from .syncsam_encoder import SAMImageEncoder, SyncSAMEncoder
from .syncsam_multiscale import MultiScaleFusion
from .syncsam_projection import TokenProjection

__all__ = [
    'UNIViT', 'SAMViT', 'CellVTAAdapter', 'SAMAdapterViT', 'SAMMed2DAdapter',
    'SyncSAMEncoder', 'SAMImageEncoder', 'MultiScaleFusion', 'TokenProjection'
]
