# Copyright (c) mmpathseg contributors. All rights reserved.
"""Sharpness-reducing augmentations of CellViT/CellVTA: box blur, zoom blur
and down/up-scaling (image only; label maps are untouched)."""
import math
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmpathseg.registry import TRANSFORMS
from .photometric import check_prob, check_range, to_image_dtype

_INTERPOLATIONS = dict(
    nearest=cv2.INTER_NEAREST,
    linear=cv2.INTER_LINEAR,
    area=cv2.INTER_AREA,
    cubic=cv2.INTER_CUBIC)


@TRANSFORMS.register_module()
class Blur(BaseTransform):
    """Box blur (``cv2.blur``) with an odd kernel size drawn uniformly from
    ``3, 5, ..., <= blur_limit`` (albumentations' ``Blur``).

    CellVTA/CellViT: ``blur_limit=10`` (kernels 3, 5, 7, 9), ``prob=0.2``.

    Modified Keys:

    - img

    Args:
        blur_limit (int): Largest kernel size, >= 3. Defaults to 10.
        prob (float): Probability of blurring. Defaults to 0.2.
    """

    def __init__(self, blur_limit: int = 10, prob: float = 0.2) -> None:
        if blur_limit < 3:
            raise ValueError(
                f'Blur: blur_limit must be >= 3, got {blur_limit!r}.')
        self.blur_limit = int(blur_limit)
        self.prob = check_prob('Blur', prob)

    @cache_randomness
    def _random_ksize(self):
        if np.random.rand() >= self.prob:
            return None
        return int(np.random.choice(np.arange(3, self.blur_limit + 1, 2)))

    def transform(self, results: dict) -> dict:
        ksize = self._random_ksize()
        if ksize is not None:
            results['img'] = cv2.blur(results['img'], (ksize, ksize))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(blur_limit={self.blur_limit}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class ZoomBlur(BaseTransform):
    """Average the image with centrally zoomed copies of itself
    (albumentations' ``ZoomBlur``, after Hendrycks & Dietterich 2019).

    A largest factor ``m`` is drawn from ``(1, max_factor)`` and a step ``s``
    from ``step_factor``; for each zoom ``z`` in ``arange(1, m, s)`` (1 is
    always included) the centre ``ceil(H / z) x ceil(W / z)`` is enlarged
    bilinearly by ``z`` and cropped back to ``H x W``. The output is the mean
    of the image and all zoomed copies.

    CellVTA/CellViT: ``max_factor=1.05``, ``prob=0.1``.

    Modified Keys:

    - img

    Args:
        max_factor (float): Upper bound of the largest zoom, >= 1.
            Defaults to 1.05.
        step_factor (tuple[float, float]): Range of the zoom step.
            Defaults to (0.01, 0.03).
        prob (float): Probability of the transform. Defaults to 0.1.
    """

    def __init__(self,
                 max_factor: float = 1.05,
                 step_factor: Sequence[float] = (0.01, 0.03),
                 prob: float = 0.1) -> None:
        if max_factor < 1:
            raise ValueError(
                f'ZoomBlur: max_factor must be >= 1, got {max_factor!r}.')
        self.max_factor = float(max_factor)
        self.step_factor = check_range('ZoomBlur', 'step_factor',
                                       step_factor, 1e-6)
        self.prob = check_prob('ZoomBlur', prob)

    @cache_randomness
    def _random_zooms(self):
        if np.random.rand() >= self.prob:
            return None
        largest = np.random.uniform(1.0, self.max_factor)
        step = np.random.uniform(*self.step_factor)
        return np.arange(1.0, largest, step)

    @staticmethod
    def _central_zoom(img: np.ndarray, zoom: float) -> np.ndarray:
        height, width = img.shape[:2]
        crop_h, crop_w = math.ceil(height / zoom), math.ceil(width / zoom)
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        crop = img[top:top + crop_h, left:left + crop_w]
        out_h = max(height, int(crop_h * zoom))
        out_w = max(width, int(crop_w * zoom))
        big = cv2.resize(
            crop, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
        top, left = (out_h - height) // 2, (out_w - width) // 2
        return big[top:top + height, left:left + width]

    def transform(self, results: dict) -> dict:
        zooms = self._random_zooms()
        if zooms is None:
            return results
        img = results['img']
        total = img.astype(np.float32)
        for zoom in zooms:
            total += self._central_zoom(img, zoom)
        results['img'] = to_image_dtype(total / (len(zooms) + 1), img.dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(max_factor={self.max_factor}, '
                f'step_factor={self.step_factor}, prob={self.prob})')


@TRANSFORMS.register_module()
class Downscale(BaseTransform):
    """Lower the resolution: shrink by a factor drawn from ``scale_range``
    and enlarge back to the input size (albumentations' ``Downscale``).

    CellViT: ``scale_range=(0.5, 0.5)``, ``prob=0.15``, nearest for both
    steps (albumentations' default, which CellViT kept). CellVTA does not use
    it (commented out in its code).

    Modified Keys:

    - img

    Args:
        scale_range (tuple[float, float]): Range of the shrink factor, within
            (0, 1). Defaults to (0.5, 0.5).
        down_interpolation (str): ``'nearest'``, ``'linear'``, ``'area'`` or
            ``'cubic'``. Defaults to ``'nearest'``.
        up_interpolation (str): As above. Defaults to ``'nearest'``.
        prob (float): Probability of the transform. Defaults to 0.15.
    """

    def __init__(self,
                 scale_range: Sequence[float] = (0.5, 0.5),
                 down_interpolation: str = 'nearest',
                 up_interpolation: str = 'nearest',
                 prob: float = 0.15) -> None:
        self.scale_range = check_range('Downscale', 'scale_range',
                                       scale_range, 1e-6)
        if self.scale_range[1] >= 1:
            raise ValueError('Downscale: scale_range must be below 1, got '
                             f'{scale_range!r}.')
        for arg, value in (('down_interpolation', down_interpolation),
                           ('up_interpolation', up_interpolation)):
            if value not in _INTERPOLATIONS:
                raise ValueError(
                    f'Downscale: {arg} must be one of '
                    f'{sorted(_INTERPOLATIONS)}, got {value!r}.')
        self.down_interpolation = down_interpolation
        self.up_interpolation = up_interpolation
        self.prob = check_prob('Downscale', prob)

    @cache_randomness
    def _random_scale(self):
        if np.random.rand() >= self.prob:
            return None
        return np.random.uniform(*self.scale_range)

    def transform(self, results: dict) -> dict:
        scale = self._random_scale()
        if scale is None:
            return results
        img = results['img']
        height, width = img.shape[:2]
        small = cv2.resize(
            img, (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=_INTERPOLATIONS[self.down_interpolation])
        results['img'] = cv2.resize(
            small, (width, height),
            interpolation=_INTERPOLATIONS[self.up_interpolation])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale_range={self.scale_range}, '
                f"down_interpolation='{self.down_interpolation}', "
                f"up_interpolation='{self.up_interpolation}', "
                f'prob={self.prob})')
