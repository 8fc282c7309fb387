# Copyright (c) mmpathseg contributors. All rights reserved.
from .cell_instance_segmentor import CellInstanceSegmentor

__all__ = ['CellInstanceSegmentor']
