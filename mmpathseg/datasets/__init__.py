# Copyright (c) mmpathseg contributors. All rights reserved.
from .conic import CONIC_CLASSES, CoNICDataset
from .nuclei_folder import NucleiFolderDataset
from .mosmed import MosMedPlusDataset
from .pannuke import (NUCLEI_TYPES, PANNUKE_TISSUE_TYPES, PanNukeDataset,
                      pannuke_fold_files)
from .qata_covid import QaTaCOV19Dataset
from .text_seg_base import TextSegDataset, name_to_stem
from .text_table import read_annotation_table
from .transforms import *  # noqa: F401,F403

__all__ = [
    'PanNukeDataset', 'pannuke_fold_files', 'NUCLEI_TYPES',
    'PANNUKE_TISSUE_TYPES', 'CoNICDataset', 'CONIC_CLASSES',
    'NucleiFolderDataset', 'TextSegDataset', 'QaTaCOV19Dataset',
    'MosMedPlusDataset', 'name_to_stem', 'read_annotation_table'
]
