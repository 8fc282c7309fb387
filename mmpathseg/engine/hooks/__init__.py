# Copyright (c) mmpathseg contributors. All rights reserved.
from .backbone_unfreeze_hook import BackboneUnfreezeHook
from .checkpoint_hook import AtomicCheckpointHook
from .visualization_hook import NpySegVisualizationHook

__all__ = [
    'BackboneUnfreezeHook', 'AtomicCheckpointHook', 'NpySegVisualizationHook'
]
