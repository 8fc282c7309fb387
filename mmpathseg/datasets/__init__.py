# Copyright (c) mmpathseg contributors. All rights reserved.
from .conic import CONIC_CLASSES, CoNICDataset
from .nuclei_folder import NucleiFolderDataset
from .pannuke import (NUCLEI_TYPES, PANNUKE_TISSUE_TYPES, PanNukeDataset,
                      pannuke_fold_files)
from .imed361m import IMed361MDataset
from .mask_folder import MaskFolderDataset
from .samed2d import PromptDatasetError, SAMed2DDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'PanNukeDataset', 'pannuke_fold_files', 'NUCLEI_TYPES',
    'PANNUKE_TISSUE_TYPES', 'CoNICDataset', 'CONIC_CLASSES',
    'NucleiFolderDataset', 'SAMed2DDataset', 'PromptDatasetError',
    'IMed361MDataset', 'MaskFolderDataset'
]
