# Copyright (c) mmpathseg contributors. All rights reserved.
from .bcss_ref import BCSSRefDataset
from .conic import CONIC_CLASSES, CoNICDataset
from .imed361m import IMed361MDataset
from .mask_folder import MaskFolderDataset
from .mosmed import MosMedPlusDataset
from .nuclei_folder import NucleiFolderDataset
from .pannuke import (NUCLEI_TYPES, PANNUKE_TISSUE_TYPES, PanNukeDataset,
                      pannuke_fold_files)
from .qata_covid import QaTaCOV19Dataset
from .referring_seg import ReferringSegDataset
from .samed2d import PromptDatasetError, SAMed2DDataset
from .text_seg_base import TextSegDataset, name_to_stem
from .text_table import read_annotation_table
from .transforms import *  # noqa: F401,F403

__all__ = [
    # nuclei instance segmentation
    'PanNukeDataset', 'pannuke_fold_files', 'NUCLEI_TYPES',
    'PANNUKE_TISSUE_TYPES', 'CoNICDataset', 'CONIC_CLASSES',
    'NucleiFolderDataset',
    # promptable segmentation
    'SAMed2DDataset', 'PromptDatasetError', 'IMed361MDataset',
    'MaskFolderDataset',
    # text-guided segmentation
    'TextSegDataset', 'QaTaCOV19Dataset', 'MosMedPlusDataset',
    'name_to_stem', 'read_annotation_table',
    # referring segmentation
    'ReferringSegDataset', 'BCSSRefDataset'
]
