# Copyright (c) mmpathseg contributors. All rights reserved.
"""Geometric augmentations of CellViT/CellVTA that move the image and every
label map together (``results['seg_fields']``: type map, instance map, ...).

Label maps are only ever sampled (nearest neighbour, the same source pixel for
every map), never interpolated or relabelled: no new ids appear, each output
pixel takes its instance id and its type from one input pixel, so an instance
keeps one type, and instances cut by a crop keep their id. Flips are mmseg's
``RandomFlip``, which flips every key in ``seg_fields`` as well.

Targets derived from the instance map (``GenerateHVMap``) come after these
transforms; results already holding ``gt_hv_map`` are refused.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmpathseg.registry import TRANSFORMS

_BORDER_MODES = dict(
    constant=cv2.BORDER_CONSTANT,
    reflect_101=cv2.BORDER_REFLECT_101,
    replicate=cv2.BORDER_REPLICATE)


def seg_map_keys(results: dict, name: str) -> List[str]:
    """The label maps a geometric transform must move with the image.

    Raises when a nuclei map is in the results but not in ``seg_fields``
    (mmseg's own geometric transforms would then leave it behind), or when
    derived targets were made too early.
    """
    keys = list(dict.fromkeys(results.get('seg_fields', [])))
    for key in ('gt_seg_map', 'gt_inst_map'):
        if key in results and key not in keys:
            raise ValueError(
                f'{name}: results hold {key!r} but results["seg_fields"] = '
                f'{keys} does not list it, so geometric transforms (mmseg\'s '
                'too) would not move it with the image. The loading '
                f'transform must append {key!r} to results["seg_fields"].')
    if 'gt_hv_map' in results:
        raise ValueError(
            f'{name}: results already hold `gt_hv_map`. HV targets depend on '
            'the orientation of the instances: put `GenerateHVMap` after '
            'every geometric transform of the pipeline.')
    return keys


def nearest_index(size_in: int, size_out: int) -> np.ndarray:
    """Source index of each output pixel for a nearest-neighbour resize with
    pixel centres aligned (as ``cv2.INTER_LINEAR`` aligns them for the image;
    ``cv2.INTER_NEAREST`` instead uses ``floor(i * scale)``, half a pixel
    off)."""
    index = np.floor((np.arange(size_out) + 0.5) * size_in /
                     size_out).astype(np.int64)
    return np.minimum(index, size_in - 1)


@TRANSFORMS.register_module()
class RandomRotate90(BaseTransform):
    """Rotate the image and every label map counter-clockwise by ``k`` x 90
    degrees, ``k`` drawn uniformly from {0, 1, 2, 3} (as albumentations'
    ``RandomRotate90``, so with ``prob`` the identity still has a 1/4 chance).

    CellVTA: ``prob=0.2``; CellViT: 0.5.

    Required Keys:

    - img
    - seg_fields and the maps it lists (e.g. gt_seg_map, gt_inst_map)

    Modified Keys:

    - img, img_shape and every key in seg_fields

    Added Keys:

    - rotate90_k (int): the number of quarter turns applied (0 if skipped);
      ``np.rot90(x, -k)`` undoes it.

    Args:
        prob (float): Probability of rotating. Defaults to 0.2 (CellVTA).
    """

    def __init__(self, prob: float = 0.2) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(
                f'RandomRotate90: prob must be in [0, 1], got {prob!r}.')
        self.prob = prob

    @cache_randomness
    def _random_k(self) -> int:
        if np.random.rand() >= self.prob:
            return 0
        return int(np.random.randint(4))

    def transform(self, results: dict) -> dict:
        keys = seg_map_keys(results, self.__class__.__name__)
        k = self._random_k()
        results['rotate90_k'] = k
        if k == 0:
            return results
        results['img'] = np.ascontiguousarray(np.rot90(results['img'], k))
        for key in keys:
            results[key] = np.ascontiguousarray(np.rot90(results[key], k))
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class RandomSizedCrop(BaseTransform):
    """Crop a random window and resize it to a fixed size (albumentations'
    ``RandomSizedCrop``).

    The crop height is drawn uniformly from the integers in
    ``min_max_height``, its width is ``int(height * w2h_ratio)``, and its
    top-left corner uniformly among all positions inside the image. The image
    is resized bilinearly, label maps by nearest neighbour with pixel centres
    aligned to the image (albumentations uses ``cv2.INTER_NEAREST``, which
    shifts maps by up to half a pixel). Instances cut by the window keep their
    id and type.

    CellVTA/CellViT: ``min_max_height=(128, 256)`` on 256 px tiles, output
    256 x 256, ``prob`` 0.2 (CellVTA) / 0.1 (CellViT).

    Required Keys:

    - img
    - seg_fields and the maps it lists

    Modified Keys:

    - img, img_shape and every key in seg_fields

    Args:
        min_max_height (tuple[int, int]): Range of the crop height, both
            inclusive. Defaults to (128, 256).
        size (tuple[int, int], optional): Output (H, W). Defaults to None,
            the input size.
        w2h_ratio (float): Crop width / crop height. Defaults to 1.0.
        prob (float): Probability of cropping. Defaults to 0.2 (CellVTA).
    """

    def __init__(self,
                 min_max_height: Sequence[int] = (128, 256),
                 size: Optional[Sequence[int]] = None,
                 w2h_ratio: float = 1.0,
                 prob: float = 0.2) -> None:
        low, high = (int(v) for v in min_max_height)
        if not 1 <= low <= high:
            raise ValueError('RandomSizedCrop: min_max_height must be (low, '
                             f'high) with 1 <= low <= high, got '
                             f'{min_max_height!r}.')
        if not 0 <= prob <= 1:
            raise ValueError(
                f'RandomSizedCrop: prob must be in [0, 1], got {prob!r}.')
        if w2h_ratio <= 0:
            raise ValueError('RandomSizedCrop: w2h_ratio must be > 0, got '
                             f'{w2h_ratio!r}.')
        self.min_max_height = (low, high)
        self.size = None if size is None else tuple(int(s) for s in size)
        self.w2h_ratio = w2h_ratio
        self.prob = prob

    @cache_randomness
    def _random_window(self, height: int, width: int) -> Optional[tuple]:
        if np.random.rand() >= self.prob:
            return None
        crop_h = int(
            np.random.randint(self.min_max_height[0],
                              self.min_max_height[1] + 1))
        crop_w = int(crop_h * self.w2h_ratio)
        if crop_h > height or crop_w > width or crop_w < 1:
            raise ValueError(
                f'RandomSizedCrop: a {crop_h} x {crop_w} crop does not fit a '
                f'{height} x {width} image; lower min_max_height='
                f'{self.min_max_height} or w2h_ratio={self.w2h_ratio}.')
        top = int((height - crop_h + 1) * np.random.rand())
        left = int((width - crop_w + 1) * np.random.rand())
        return top, left, crop_h, crop_w

    def transform(self, results: dict) -> dict:
        keys = seg_map_keys(results, self.__class__.__name__)
        img = results['img']
        height, width = img.shape[:2]
        window = self._random_window(height, width)
        if window is None:
            return results
        top, left, crop_h, crop_w = window
        out_h, out_w = self.size or (height, width)
        crop = img[top:top + crop_h, left:left + crop_w]
        results['img'] = cv2.resize(
            crop, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
        rows = top + nearest_index(crop_h, out_h)
        cols = left + nearest_index(crop_w, out_w)
        for key in keys:
            results[key] = results[key][rows[:, None], cols[None, :]]
        results['img_shape'] = results['img'].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(min_max_height='
                f'{self.min_max_height}, size={self.size}, '
                f'w2h_ratio={self.w2h_ratio}, prob={self.prob})')


@TRANSFORMS.register_module()
class ElasticTransform(BaseTransform):
    """Random affine warp followed by a smooth random displacement field
    (albumentations' ``ElasticTransform``, ``approximate=False``).

    The affine map moves the three points ``centre + (s, s)``,
    ``centre + (s, -s)`` and ``centre - (s, s)`` (``s = min(H, W) // 3``) by
    offsets drawn uniformly from ``[-alpha_affine, alpha_affine]``; the
    displacement field is uniform noise in [-1, 1] smoothed by a Gaussian of
    ``sigma`` and scaled by ``alpha`` (with CellViT's ``alpha=0.5,
    sigma=25`` it moves pixels by about 0.003 px, so the affine part is what
    matters). Both are composed into one sampling grid: the image is
    interpolated once (bilinear) instead of twice, and every label map is
    sampled at the nearest source pixel of the same grid.

    Outside the image, ``border_mode`` applies to the image and the label
    maps alike, so labels keep describing the pixels: ``'reflect_101'``
    (albumentations' default, used by CellViT/CellVTA) mirrors nuclei near the
    border together with their ids, so a mirrored copy may carry the id of a
    nucleus it is not connected to (as in the reference); ``'constant'``
    fills the image with 0 and the maps with 0 (background).

    CellVTA/CellViT: ``alpha=0.5, sigma=25, alpha_affine=15, prob=0.2``.

    Required Keys:

    - img
    - seg_fields and the maps it lists

    Modified Keys:

    - img and every key in seg_fields

    Args:
        alpha (float): Scale of the displacement field. Defaults to 0.5.
        sigma (float): Gaussian smoothing of the field. Defaults to 25.
        alpha_affine (float): Range of the affine control point offsets, in
            pixels. Defaults to 15.
        border_mode (str): ``'reflect_101'``, ``'constant'`` or
            ``'replicate'``. Defaults to ``'reflect_101'``.
        prob (float): Probability of warping. Defaults to 0.2.
    """

    def __init__(self,
                 alpha: float = 0.5,
                 sigma: float = 25,
                 alpha_affine: float = 15,
                 border_mode: str = 'reflect_101',
                 prob: float = 0.2) -> None:
        if border_mode not in _BORDER_MODES:
            raise ValueError(
                'ElasticTransform: border_mode must be one of '
                f'{sorted(_BORDER_MODES)}, got {border_mode!r}.')
        if not 0 <= prob <= 1:
            raise ValueError(
                f'ElasticTransform: prob must be in [0, 1], got {prob!r}.')
        if sigma <= 0 or alpha < 0 or alpha_affine < 0:
            raise ValueError(
                'ElasticTransform: sigma must be > 0 and alpha, alpha_affine '
                f'>= 0, got sigma={sigma!r}, alpha={alpha!r}, '
                f'alpha_affine={alpha_affine!r}.')
        self.alpha = alpha
        self.sigma = sigma
        self.alpha_affine = alpha_affine
        self.border_mode = border_mode
        self.prob = prob

    @cache_randomness
    def _random_grid(self, height: int,
                     width: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """Source coordinates (map_x, map_y), each (H, W) float32, or None."""
        if np.random.rand() >= self.prob:
            return None
        # Control points in (x, y) order. albumentations builds the centre
        # from (H // 2, W // 2) and uses it as (x, y); for square tiles the
        # two agree.
        centre = np.array([width // 2, height // 2], np.float32)
        side = min(height, width) // 3
        src = np.array([
            centre + side, [centre[0] + side, centre[1] - side],
            centre - side
        ], np.float32)
        dst = src + np.random.uniform(
            -self.alpha_affine, self.alpha_affine, size=src.shape).astype(
                np.float32)
        # warpAffine samples dst pixel p at inverse(M) p.
        inverse = cv2.invertAffineTransform(cv2.getAffineTransform(src, dst))
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        x = xs + self._random_field(height, width)
        y = ys + self._random_field(height, width)
        map_x = inverse[0, 0] * x + inverse[0, 1] * y + inverse[0, 2]
        map_y = inverse[1, 0] * x + inverse[1, 1] * y + inverse[1, 2]
        return map_x.astype(np.float32), map_y.astype(np.float32)

    def _random_field(self, height: int, width: int) -> np.ndarray:
        """Uniform noise in [-1, 1] smoothed by a Gaussian of ``sigma``
        (kernel radius 4 sigma, mirrored border, as ``scipy.ndimage.
        gaussian_filter``) and scaled by ``alpha``."""
        noise = (np.random.rand(height, width) * 2 - 1).astype(np.float32)
        if self.alpha == 0:
            return np.zeros_like(noise)
        radius = int(4 * self.sigma + 0.5)
        smooth = cv2.GaussianBlur(
            noise, (2 * radius + 1, 2 * radius + 1),
            self.sigma,
            borderType=cv2.BORDER_REFLECT)
        return smooth * self.alpha

    def _sample_map(self, seg: np.ndarray, map_x: np.ndarray,
                    map_y: np.ndarray) -> np.ndarray:
        """Nearest-neighbour lookup of a label map of any dtype."""
        height, width = seg.shape[:2]
        cols = np.floor(map_x + 0.5).astype(np.int64)
        rows = np.floor(map_y + 0.5).astype(np.int64)
        if self.border_mode == 'constant':
            inside = (rows >= 0) & (rows < height) & (cols >= 0) & (
                cols < width)
            out = seg[np.clip(rows, 0, height - 1),
                      np.clip(cols, 0, width - 1)]
            out[~inside] = 0
            return out
        if self.border_mode == 'replicate':
            return seg[np.clip(rows, 0, height - 1),
                       np.clip(cols, 0, width - 1)]
        return seg[_reflect_101(rows, height), _reflect_101(cols, width)]

    def transform(self, results: dict) -> dict:
        keys = seg_map_keys(results, self.__class__.__name__)
        img = results['img']
        grid = self._random_grid(*img.shape[:2])
        if grid is None:
            return results
        map_x, map_y = grid
        results['img'] = cv2.remap(
            img,
            map_x,
            map_y,
            interpolation=cv2.INTER_LINEAR,
            borderMode=_BORDER_MODES[self.border_mode],
            borderValue=0)
        for key in keys:
            results[key] = self._sample_map(results[key], map_x, map_y)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alpha={self.alpha}, '
                f'sigma={self.sigma}, alpha_affine={self.alpha_affine}, '
                f"border_mode='{self.border_mode}', prob={self.prob})")


def _reflect_101(index: np.ndarray, size: int) -> np.ndarray:
    """Map indices outside [0, size) as ``cv2.BORDER_REFLECT_101`` (mirror
    about the edge pixel: -1 -> 1, size -> size - 2)."""
    if size == 1:
        return np.zeros_like(index)
    period = 2 * (size - 1)
    index = np.abs(index) % period
    return np.where(index < size, index, period - index)
