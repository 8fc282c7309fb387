# Copyright (c) mmpathseg contributors. All rights reserved.
"""Parts of ViT adapters: CellVTA's spatial prior module, injector,
extractor, interaction block and multi-scale deformable attention."""
from .interaction import (ConvFFN, Extractor, Injector, InteractionBlock,
                          MultiLevelDWConv)
from .ms_deform_attn import (MSDeformAttn, level_layout, ms_deform_attn_core,
                             reference_points, split_levels)
from .spm import SpatialPriorModule

__all__ = [
    'ConvFFN', 'Extractor', 'Injector', 'InteractionBlock',
    'MultiLevelDWConv', 'MSDeformAttn', 'level_layout',
    'ms_deform_attn_core', 'reference_points', 'split_levels',
    'SpatialPriorModule'
]
