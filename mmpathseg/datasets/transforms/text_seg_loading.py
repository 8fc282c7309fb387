# Copyright (c) mmpathseg contributors. All rights reserved.
"""Binary lesion masks of the text-guided datasets (QaTa-COV19: 0/255 grey
PNGs; MosMedData+: 3-channel PNGs)."""
from typing import Optional

import io

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from PIL import Image

from mmpathseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadBinaryMask(BaseTransform):
    """Load ``seg_map_path`` as a 0/1 ``gt_seg_map``.

    A palette PNG is converted to grey first (its raw values are palette
    indices, not intensities: LViT's template masks are such files), a
    multi-channel mask is reduced with the channel maximum, then pixels
    ``> threshold`` are foreground. Ariadne reads QaTa masks as ``gt == 255``
    and MMI-UNet reduces MosMed's channels by their mean; for masks whose
    foreground is 255 in every channel, as in both releases, all three agree.

    Required keys: ``seg_map_path``. Added keys: ``gt_seg_map`` (``(H, W)``
    uint8 in {0, 1}), ``seg_fields``.

    Args:
        threshold (int): Foreground is ``value > threshold``. Defaults to
            127 (masks stored as 0/255). Use 0 for 0/1 masks.
        backend_args (dict, optional): File backend arguments.
    """

    def __init__(self,
                 threshold: int = 127,
                 backend_args: Optional[dict] = None) -> None:
        self.threshold = threshold
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results['seg_map_path']
        try:
            image = Image.open(
                io.BytesIO(get(path, backend_args=self.backend_args)))
            if image.mode in ('P', 'PA', 'LA'):
                image = image.convert('L')
            mask = np.asarray(image)
        except OSError as error:
            raise ValueError(f'LoadBinaryMask: could not decode {path} '
                             f'({error}).')
        if mask.ndim == 3:
            mask = mask.max(axis=2)
        results['gt_seg_map'] = (mask > self.threshold).astype(np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(threshold={self.threshold})'
