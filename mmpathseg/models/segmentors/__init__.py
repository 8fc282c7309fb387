# Copyright (c) mmpathseg contributors. All rights reserved.
from .cell_instance_segmentor import CellInstanceSegmentor

__all__ = ['CellInstanceSegmentor']
from .referring_data_preprocessor import ReferringDataPreprocessor  # noqa
from .referring_segmentor import ReferringSegmentor  # noqa: E402

__all__ += ['ReferringSegmentor', 'ReferringDataPreprocessor']
