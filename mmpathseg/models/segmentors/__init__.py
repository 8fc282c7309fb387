# Copyright (c) mmpathseg contributors. All rights reserved.
from .cell_instance_segmentor import CellInstanceSegmentor
from .promptable_segmentor import PromptableSegmentor
from .text_guided_segmentor import TextGuidedSegmentor

__all__ = [
    'CellInstanceSegmentor', 'PromptableSegmentor', 'TextGuidedSegmentor'
]
