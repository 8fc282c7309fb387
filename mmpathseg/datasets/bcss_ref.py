# Copyright (c) mmpathseg contributors. All rights reserved.
"""BCSS class codes and the coarse grouping used for BCSS-Ref.

Codes are those of the BCSS release (``meta/gtruth_codes.tsv``). Code 0 is
"outside the annotated ROI" (don't care, never a class); 7 "exclude" and
15 "undetermined" are treated as don't care too. The coarse grouping is the
usual one of the BCSS paper: tumour = tumor + angioinvasion + DCIS,
inflammatory = lymphocytic infiltrate + plasma cells + other immune
infiltrate.
"""
from mmpathseg.registry import DATASETS
from .referring_seg import ReferringSegDataset

__all__ = [
    'BCSS_CODES', 'BCSS_IGNORE_CODES', 'BCSS_REF_GROUPS', 'BCSSRefDataset'
]

BCSS_CODES = {
    0: 'outside_roi', 1: 'tumor', 2: 'stroma', 3: 'lymphocytic_infiltrate',
    4: 'necrosis_or_debris', 5: 'glandular_secretions', 6: 'blood',
    7: 'exclude', 8: 'metaplasia_NOS', 9: 'fat', 10: 'plasma_cells',
    11: 'other_immune_infiltrate', 12: 'mucoid_material',
    13: 'normal_acinus_or_duct', 14: 'lymphatics', 15: 'undetermined',
    16: 'nerve', 17: 'skin_adnexa', 18: 'blood_vessel', 19: 'angioinvasion',
    20: 'dcis', 21: 'other'
}
BCSS_IGNORE_CODES = (0, 7, 15)
# (category id, name, codes): the four referable coarse classes.
BCSS_REF_GROUPS = (
    (1, 'tumor', (1, 19, 20)),
    (2, 'stroma', (2, )),
    (3, 'inflammatory infiltrate', (3, 10, 11)),
    (4, 'necrosis', (4, )),
)


@DATASETS.register_module()
class BCSSRefDataset(ReferringSegDataset):
    """BCSS-Ref written by ``tools/dataset_converters/bcss_to_ref.py``: a
    :class:`ReferringSegDataset` whose classes are the four coarse groups;
    filter a magnification with ``magnifications=('20x',)``."""
    METAINFO = dict(classes=tuple(name for _, name, _ in BCSS_REF_GROUPS))
