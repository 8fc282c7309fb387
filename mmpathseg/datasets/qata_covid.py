# Copyright (c) mmpathseg contributors. All rights reserved.
"""QaTa-COV19 (v2) chest X-rays with LViT's report sentences."""
from mmpathseg.registry import DATASETS
from .text_seg_base import TextSegDataset


@DATASETS.register_module()
class QaTaCOV19Dataset(TextSegDataset):
    """QaTa-COV19-v2 in its Kaggle layout with LViT's text workbooks.

    Layout (see ``data/README.md``)::

        data/QaTa-COV19/
          Train Set/Images/<name>.png
          Train Set/Ground-truths/mask_<name>.png   (0/255)
          Test Set/Images/<name>.png
          Test Set/Ground-truths/mask_<name>.png
          Train_text_for_Covid19.xlsx        (7145 rows: train + val)
          Test_text_for_Covid19.xlsx         (2113 rows)
          Train_ID.xlsx  Val_ID.xlsx         (LViT's 5716 / 1429; optional)

    Masks are 0/255 PNGs named ``mask_<name>.png``; the workbooks name the
    masks (``mask_<name>.png``) or the bare image, both match by stem. The
    split is either LViT's ID files (``split_file``) or Ariadne's first 80% /
    last 20% of the train workbook (``row_range``).
    """

    def __init__(self,
                 data_prefix: dict = dict(
                     img_path='Train Set/Images',
                     seg_map_path='Train Set/Ground-truths'),
                 mask_name: str = 'mask_{stem}.png',
                 **kwargs) -> None:
        super().__init__(data_prefix=data_prefix, mask_name=mask_name,
                         **kwargs)
