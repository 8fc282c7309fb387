# Copyright (c) mmpathseg contributors. All rights reserved.
from .draw import (draw_instances, draw_prompted_mask, draw_referring,
                   draw_semantic, instance_contours)
from .local_visualizer import PathSegLocalVisualizer

__all__ = [
    'PathSegLocalVisualizer', 'draw_instances', 'draw_semantic',
    'draw_prompted_mask', 'draw_referring', 'instance_contours'
]
