# Copyright (c) mmpathseg contributors. All rights reserved.
"""Intensity preprocessing of medical images (MedSAM's conventions)."""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MinMaxScale(BaseTransform):
    """Scale the image to ``[0, 1]`` by its own min and max (MedSAM).

    MedSAM feeds images min-max scaled to ``[0, 1]`` straight into SAM's
    encoder, **without** SAM's mean/std: pair this with a data preprocessor
    of mean 0 and std 1. A constant image becomes all zeros.

    Modified keys: ``img`` (float32).
    """

    def transform(self, results: dict) -> dict:
        img = results['img'].astype(np.float32)
        low, high = float(img.min()), float(img.max())
        results['img'] = (img - low) / max(high - low, 1e-8)
        return results


@TRANSFORMS.register_module()
class IntensityWindow(BaseTransform):
    """Clip to a window and rescale to uint8 0..255 (MedSAM's ``pre_CT_MR``).

    For raw CT in Hounsfield units give ``level``/``width`` (MedSAM: soft
    tissue 40/400, chest -600/1500, brain 40/80); without them the window is
    the ``percentiles`` of the non-zero pixels (MedSAM's MR / ultrasound
    rule: 0.5 and 99.5). SA-Med2D PNGs are already 8-bit: do not window
    them again.

    Modified keys: ``img`` (uint8, channels kept).

    Args:
        level (float, optional): Window centre.
        width (float, optional): Window width.
        percentiles (tuple): Used when ``level`` is None. Defaults to
            (0.5, 99.5).
    """

    def __init__(self,
                 level: Optional[float] = None,
                 width: Optional[float] = None,
                 percentiles: Tuple[float, float] = (0.5, 99.5)) -> None:
        if (level is None) != (width is None):
            raise ValueError('IntensityWindow: give both level and width, '
                             'or neither (percentile window).')
        self.level, self.width, self.percentiles = level, width, percentiles

    def transform(self, results: dict) -> dict:
        img = results['img'].astype(np.float32)
        if self.level is not None:
            low = self.level - self.width / 2
            high = self.level + self.width / 2
        else:
            values = img[img != 0]
            if values.size == 0:
                values = img.ravel()
            low, high = np.percentile(values, self.percentiles)
        img = (np.clip(img, low, high) - low) / max(high - low, 1e-8)
        results['img'] = np.round(img * 255).astype(np.uint8)
        return results
