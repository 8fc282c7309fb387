# Copyright (c) mmpathseg contributors. All rights reserved.
from .conic import CONIC_CLASSES, CoNICDataset
from .nuclei_folder import NucleiFolderDataset
from .pannuke import (NUCLEI_TYPES, PANNUKE_TISSUE_TYPES, PanNukeDataset,
                      pannuke_fold_files)
from .transforms import *  # noqa: F401,F403

__all__ = [
    'PanNukeDataset', 'pannuke_fold_files', 'NUCLEI_TYPES',
    'PANNUKE_TISSUE_TYPES', 'CoNICDataset', 'CONIC_CLASSES',
    'NucleiFolderDataset'
]
from .bcss_ref import BCSSRefDataset  # noqa: E402
from .referring_seg import ReferringSegDataset  # noqa: E402

__all__ += ['ReferringSegDataset', 'BCSSRefDataset']
