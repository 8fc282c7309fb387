# Copyright (c) mmpathseg contributors. All rights reserved.
from .draw import (draw_instances, draw_masks, draw_object_prompts,
                   draw_prompted_mask, draw_referring, draw_semantic,
                   instance_contours)
from .local_visualizer import PathSegLocalVisualizer
from .sample_drawers import (draw_promptable_sample, draw_referring_sample,
                             draw_text_guided_sample, sample_kind)

__all__ = [
    'PathSegLocalVisualizer', 'draw_instances', 'draw_semantic',
    'draw_prompted_mask', 'draw_referring', 'instance_contours',
    'draw_masks', 'draw_object_prompts', 'draw_promptable_sample',
    'draw_referring_sample', 'draw_text_guided_sample', 'sample_kind'
]
