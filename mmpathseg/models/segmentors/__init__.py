# Copyright (c) mmpathseg contributors. All rights reserved.
from .cell_instance_segmentor import CellInstanceSegmentor

__all__ = ['CellInstanceSegmentor']
from .text_guided_segmentor import TextGuidedSegmentor  # noqa: E402

__all__ += ['TextGuidedSegmentor']
