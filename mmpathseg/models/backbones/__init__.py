# Copyright (c) mmpathseg contributors. All rights reserved.
from .cellvta_adapter import CellVTAAdapter
from .sam_vit import SAMViT
from .vit_uni import UNIViT

__all__ = ['UNIViT', 'SAMViT', 'CellVTAAdapter']
