# Copyright (c) mmpathseg contributors. All rights reserved.
from .cell_instance_segmentor import CellInstanceSegmentor
from .promptable_segmentor import PromptableSegmentor
from .referring_data_preprocessor import ReferringDataPreprocessor
from .referring_segmentor import ReferringSegmentor
from .text_guided_segmentor import TextGuidedSegmentor

__all__ = [
    'CellInstanceSegmentor', 'PromptableSegmentor', 'TextGuidedSegmentor',
    'ReferringSegmentor', 'ReferringDataPreprocessor'
]
