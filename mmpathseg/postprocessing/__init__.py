# Copyright (c) mmpathseg contributors. All rights reserved.
from .batched_contours import trace_contours
from .hovernet_postprocessor import (MAGNIFICATION_PRESETS,
                                     HoVerNetPostProcessor)
from .hovernet_watershed import foreground_mask, hover_watershed
from .instance_properties import (group_instances, instance_table,
                                  vote_types)
from .tile_merge import InstanceTileMerger
from .tiling import resize_label_map, tile_origins

__all__ = [
    'HoVerNetPostProcessor', 'MAGNIFICATION_PRESETS', 'InstanceTileMerger',
    'hover_watershed', 'foreground_mask', 'instance_table', 'group_instances',
    'vote_types', 'trace_contours', 'tile_origins', 'resize_label_map'
]
