# Copyright (c) mmpathseg contributors. All rights reserved.
"""MosMedData+ CT slices with LViT's report sentences."""
from mmpathseg.registry import DATASETS
from .text_seg_base import TextSegDataset


@DATASETS.register_module()
class MosMedPlusDataset(TextSegDataset):
    """MosMedData+ as LViT distributes it.

    Layout (see ``data/README.md``)::

        data/MosMedDataPlus/
          frames/<name>.png      masks/<name>.png
          Train_text_MosMedData+ 1.xlsx   Val_text_MosMedData+ 1.xlsx
          Test_text_MosMedData+.xlsx

    Image and mask share the file name; each workbook selects its split.
    The masks are 3-channel PNGs; load them with
    :class:`~mmpathseg.datasets.transforms.LoadBinaryMask`, which reduces the
    channels before thresholding.
    """

    def __init__(self,
                 data_prefix: dict = dict(
                     img_path='frames', seg_map_path='masks'),
                 mask_name: str = '{stem}.png',
                 **kwargs) -> None:
        super().__init__(data_prefix=data_prefix, mask_name=mask_name,
                         **kwargs)
