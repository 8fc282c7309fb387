# Copyright (c) mmpathseg contributors. All rights reserved.
"""Packing of nuclei samples (image, type map, instance map, HV target and
tissue) into the model's inputs and a ``SegDataSample``."""
from typing import Sequence

import numpy as np
from mmcv.transforms import to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs

from mmpathseg.registry import TRANSFORMS

NUCLEI_META_KEYS = ('img_path', 'seg_map_path', 'img_index', 'ori_shape',
                    'img_shape', 'pad_shape', 'scale_factor', 'flip',
                    'flip_direction', 'reduce_zero_label', 'tissue',
                    'tissue_label')


@TRANSFORMS.register_module()
class PackNucleiInputs(PackSegInputs):
    """Pack a nuclei sample as mmseg's ``PackSegInputs`` does, plus the
    instance map and the HV target.

    The three targets of a HoVer-style head are read from the data sample:
    NP is ``gt_instance_map.data > 0``, NC is ``gt_sem_seg.data`` and HV is
    ``gt_hv_map.data``. The tissue of the tile (name and index, for the
    tissue head) is in the metainfo.

    Required Keys:

    - img (np.ndarray): (H, W, C) image.

    Optional Keys:

    - gt_seg_map (np.ndarray): (H, W) type map -> ``gt_sem_seg``, data
      (1, H, W) int64.
    - gt_inst_map (np.ndarray): (H, W) instance ids -> ``gt_instance_map``,
      data (1, H, W) int64.
    - gt_hv_map (np.ndarray): (2, H, W) float32 -> ``gt_hv_map``, data
      (2, H, W) float32 (channel 0 horizontal, 1 vertical).
    - every key of ``meta_keys`` present (absent ones are skipped).

    Added Keys:

    - inputs (torch.Tensor): (C, H, W) image, dtype as loaded.
    - data_samples (SegDataSample)

    Args:
        meta_keys (Sequence[str]): Keys copied to the metainfo. Defaults to
            mmseg's meta keys plus ``img_index``, ``tissue`` and
            ``tissue_label``.
    """

    def __init__(self, meta_keys: Sequence[str] = NUCLEI_META_KEYS) -> None:
        super().__init__(meta_keys=tuple(meta_keys))

    def transform(self, results: dict) -> dict:
        shape = tuple(results['img'].shape[:2])
        for key, expected in (('gt_seg_map', shape), ('gt_inst_map', shape),
                              ('gt_hv_map', (2, ) + shape)):
            if key in results and tuple(results[key].shape) != expected:
                raise ValueError(
                    f'PackNucleiInputs: {key} of {self._where(results)} has '
                    f'shape {tuple(results[key].shape)}, expected {expected} '
                    f'for an image of size {shape}. A transform changed the '
                    'image without the map: list the map in '
                    'results["seg_fields"], and make the HV target '
                    '(GenerateHVMap) after the geometric transforms.')
        packed = super().transform(results)
        data_sample = packed['data_samples']
        if 'gt_inst_map' in results:
            inst = results['gt_inst_map'][None].astype(np.int64)
            data_sample.set_data(
                dict(gt_instance_map=PixelData(data=to_tensor(inst))))
        if 'gt_hv_map' in results:
            hv = np.ascontiguousarray(results['gt_hv_map'], np.float32)
            data_sample.set_data(
                dict(gt_hv_map=PixelData(data=to_tensor(hv))))
        return packed

    @staticmethod
    def _where(results: dict) -> str:
        where = str(results.get('img_path', 'the sample'))
        if 'img_index' in results:
            where += f'[{results["img_index"]}]'
        return where
