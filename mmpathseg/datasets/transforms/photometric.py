# Copyright (c) mmpathseg contributors. All rights reserved.
"""Colour and noise augmentations of CellViT/CellVTA (image only; label maps
are untouched).

Images are (H, W, 3) uint8, or float with values in 0..255; the output keeps
the input dtype. Arithmetic is done in float and rounded once at the end
(albumentations truncates after each step on uint8, a bias of up to one grey
level).
"""
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmpathseg.registry import TRANSFORMS


def to_image_dtype(img: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Clip a float image to 0..255 and cast it back to ``dtype`` (rounding
    for integer types)."""
    img = np.clip(img, 0, 255)
    if np.issubdtype(dtype, np.integer):
        img = np.rint(img)
    return img.astype(dtype)


def check_prob(name: str, prob: float) -> float:
    if not 0 <= prob <= 1:
        raise ValueError(f'{name}: prob must be in [0, 1], got {prob!r}.')
    return prob


def check_range(name: str, arg: str, value: Sequence[float],
                low: float) -> Tuple[float, float]:
    """A (min, max) pair with ``low <= min <= max``."""
    if len(value) != 2 or not low <= value[0] <= value[1]:
        raise ValueError(f'{name}: {arg} must be (min, max) with {low} <= '
                         f'min <= max, got {value!r}.')
    return float(value[0]), float(value[1])


@TRANSFORMS.register_module()
class GaussNoise(BaseTransform):
    """Add zero-mean Gaussian noise (albumentations' ``GaussNoise``).

    The variance is drawn uniformly from ``var_limit`` (on the 0..255 scale),
    noise is drawn per pixel and per channel (or shared by the channels).

    CellVTA: ``var_limit=(0, 10), prob=0.5``; CellViT: ``(0, 50)``, 0.25
    (albumentations reads a single number ``v`` as ``(0, v)``).

    Modified Keys:

    - img

    Args:
        var_limit (tuple[float, float]): Range of the noise variance.
            Defaults to (0, 10).
        per_channel (bool): Independent noise per channel. Defaults to True.
        prob (float): Probability of adding noise. Defaults to 0.5.
    """

    def __init__(self,
                 var_limit: Sequence[float] = (0., 10.),
                 per_channel: bool = True,
                 prob: float = 0.5) -> None:
        self.var_limit = check_range('GaussNoise', 'var_limit', var_limit, 0)
        self.per_channel = per_channel
        self.prob = check_prob('GaussNoise', prob)

    @cache_randomness
    def _random_noise(self, shape: tuple):
        if np.random.rand() >= self.prob:
            return None
        sigma = np.random.uniform(*self.var_limit)**0.5
        if not self.per_channel and len(shape) == 3:
            shape = shape[:2] + (1, )
        # Seeded from the global generator (reproducible under
        # np.random.seed), drawn by the faster ziggurat sampler.
        rng = np.random.default_rng(np.random.randint(2**31))
        return rng.standard_normal(shape, dtype=np.float32) * sigma

    def transform(self, results: dict) -> dict:
        img = results['img']
        noise = self._random_noise(img.shape)
        if noise is not None:
            results['img'] = to_image_dtype(img + noise, img.dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(var_limit={self.var_limit}, '
                f'per_channel={self.per_channel}, prob={self.prob})')


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Jitter brightness, contrast, saturation and hue, in a random order
    (albumentations' ``ColorJitter``, OpenCV formulas).

    Factors are drawn uniformly: brightness ``b`` and contrast ``c`` from
    ``[max(0, 1 - x), 1 + x]``, saturation ``s`` likewise, hue ``h`` from
    ``[-hue, hue]`` (fraction of the colour wheel). Brightness is
    ``img * b``; contrast ``img * c + mean_gray * (1 - c)``; saturation
    ``img * s + gray * (1 - s)``; hue shifts the HSV hue by ``h * 360``
    degrees. The image is clipped to 0..255 after each step.

    CellVTA/CellViT: ``brightness=contrast=0.25, saturation=0.1, hue=0.05``
    (their ``scale_setting=0.25, scale_color=0.1``), ``prob=0.2``.

    Modified Keys:

    - img

    Args:
        brightness (float): Defaults to 0.25.
        contrast (float): Defaults to 0.25.
        saturation (float): Defaults to 0.1.
        hue (float): In [0, 0.5]. Defaults to 0.05.
        channel_order (str): ``'bgr'`` (mmseg's loaders) or ``'rgb'``; sets
            the grey weights and the hue conversion. Defaults to ``'bgr'``.
        prob (float): Probability of jittering. Defaults to 0.2.
    """

    def __init__(self,
                 brightness: float = 0.25,
                 contrast: float = 0.25,
                 saturation: float = 0.1,
                 hue: float = 0.05,
                 channel_order: str = 'bgr',
                 prob: float = 0.2) -> None:
        for arg, value in (('brightness', brightness), ('contrast', contrast),
                           ('saturation', saturation)):
            if value < 0:
                raise ValueError(
                    f'ColorJitter: {arg} must be >= 0, got {value!r}.')
        if not 0 <= hue <= 0.5:
            raise ValueError(f'ColorJitter: hue must be in [0, 0.5], got '
                             f'{hue!r}.')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError('ColorJitter: channel_order must be "bgr" or '
                             f'"rgb", got {channel_order!r}.')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.channel_order = channel_order
        self.prob = check_prob('ColorJitter', prob)
        rgb = channel_order == 'rgb'
        self._to_gray = cv2.COLOR_RGB2GRAY if rgb else cv2.COLOR_BGR2GRAY
        self._to_hsv = cv2.COLOR_RGB2HSV if rgb else cv2.COLOR_BGR2HSV
        self._from_hsv = cv2.COLOR_HSV2RGB if rgb else cv2.COLOR_HSV2BGR

    @cache_randomness
    def _random_params(self):
        if np.random.rand() >= self.prob:
            return None
        factors = [
            np.random.uniform(max(0., 1 - x), 1 + x)
            for x in (self.brightness, self.contrast, self.saturation)
        ]
        factors.append(np.random.uniform(-self.hue, self.hue))
        return factors, np.random.permutation(4)

    def _gray(self, img: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(img, self._to_gray)

    def transform(self, results: dict) -> dict:
        params = self._random_params()
        if params is None:
            return results
        factors, order = params
        src = results['img']
        img = src.astype(np.float32)
        for step in order:
            factor = factors[step]
            if step == 0:
                img = img * factor
            elif step == 1:
                img = img * factor + self._gray(img).mean() * (1 - factor)
            elif step == 2:
                img = img * factor + self._gray(img)[..., None] * (1 - factor)
            elif factor != 0:
                hsv = cv2.cvtColor(img / 255, self._to_hsv)
                hsv[..., 0] = np.mod(hsv[..., 0] + factor * 360, 360)
                img = cv2.cvtColor(hsv, self._from_hsv) * 255
            img = np.clip(img, 0, 255).astype(np.float32)
        results['img'] = to_image_dtype(img, src.dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f"hue={self.hue}, channel_order='{self.channel_order}', "
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class Superpixels(BaseTransform):
    """Replace some SLIC superpixels by their mean colour (albumentations'
    ``Superpixels``).

    Images larger than ``max_size`` are first shrunk so their longer side is
    ``max_size`` and enlarged back at the end (``interpolation``), so, as in
    the reference, the whole image is blurred whenever at least one
    superpixel is replaced. SLIC (scikit-image, compactness 10, Lab colour)
    runs on the RGB image with about ``n_segments`` segments; each segment is
    replaced with probability ``p_replace``. (albumentations 1.3.0 writes the
    mean colour of segment ``k + 1`` into segment ``k``; here each segment
    gets its own mean.)

    CellVTA/CellViT: ``p_replace=0.1, n_segments=200, max_size=128`` (half
    the 256 px tile), ``prob=0.1``.

    Modified Keys:

    - img

    Args:
        p_replace (float | tuple[float, float]): Replacement probability per
            segment, or a range to draw it from per image. Defaults to 0.1.
        n_segments (int | tuple[int, int]): Target number of segments, or an
            inclusive range. Defaults to 200.
        max_size (int, optional): Longest side SLIC works at; None keeps the
            full size. Defaults to 128.
        interpolation (str): ``'linear'``, ``'nearest'``, ``'area'`` or
            ``'cubic'`` for the shrink/enlarge. Defaults to ``'linear'``.
        channel_order (str): ``'bgr'`` or ``'rgb'``. Defaults to ``'bgr'``.
        prob (float): Probability of the transform. Defaults to 0.1.
    """
    _INTERPOLATIONS = dict(
        linear=cv2.INTER_LINEAR,
        nearest=cv2.INTER_NEAREST,
        area=cv2.INTER_AREA,
        cubic=cv2.INTER_CUBIC)

    def __init__(self,
                 p_replace: Union[float, Sequence[float]] = 0.1,
                 n_segments: Union[int, Sequence[int]] = 200,
                 max_size: int = 128,
                 interpolation: str = 'linear',
                 channel_order: str = 'bgr',
                 prob: float = 0.1) -> None:
        if isinstance(p_replace, (int, float)):
            p_replace = (p_replace, p_replace)
        if isinstance(n_segments, int):
            n_segments = (n_segments, n_segments)
        self.p_replace = check_range('Superpixels', 'p_replace', p_replace, 0)
        if self.p_replace[1] > 1:
            raise ValueError('Superpixels: p_replace must be within [0, 1], '
                             f'got {p_replace!r}.')
        low, high = check_range('Superpixels', 'n_segments', n_segments, 1)
        self.n_segments = (int(low), int(high))
        if max_size is not None and max_size < 1:
            raise ValueError(f'Superpixels: max_size must be >= 1 or None, '
                             f'got {max_size!r}.')
        if interpolation not in self._INTERPOLATIONS:
            raise ValueError(
                'Superpixels: interpolation must be one of '
                f'{sorted(self._INTERPOLATIONS)}, got {interpolation!r}.')
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError('Superpixels: channel_order must be "bgr" or '
                             f'"rgb", got {channel_order!r}.')
        self.max_size = max_size
        self.interpolation = interpolation
        self.channel_order = channel_order
        self.prob = check_prob('Superpixels', prob)

    @cache_randomness
    def _random_params(self):
        if np.random.rand() >= self.prob:
            return None
        n_segments = int(
            np.random.randint(self.n_segments[0], self.n_segments[1] + 1))
        p_replace = np.random.uniform(*self.p_replace)
        # One draw per segment label; SLIC may return more segments than
        # asked, so draw generously and index by label.
        return n_segments, np.random.rand(4 * n_segments + 1) < p_replace

    def transform(self, results: dict) -> dict:
        params = self._random_params()
        if params is None or not params[1].any():
            return results
        from skimage.segmentation import slic

        n_segments, replace = params
        src = results['img']
        height, width = src.shape[:2]
        flag = self._INTERPOLATIONS[self.interpolation]
        img = src
        if self.max_size is not None and max(height, width) > self.max_size:
            scale = self.max_size / max(height, width)
            img = cv2.resize(
                src, (max(1, int(width * scale)), max(1, int(
                    height * scale))),
                interpolation=flag)
        rgb = img if self.channel_order == 'rgb' else img[..., ::-1]
        segments = slic(
            np.ascontiguousarray(rgb),
            n_segments=n_segments,
            compactness=10,
            start_label=1,
            channel_axis=-1)
        labels = segments.ravel()
        chosen = replace[labels % replace.size]
        if chosen.any():
            flat = img.reshape(-1, img.shape[-1]).astype(np.float64)
            counts = np.bincount(labels)
            out = flat.copy()
            for c in range(flat.shape[1]):
                means = np.bincount(
                    labels, weights=flat[:, c]) / np.maximum(counts, 1)
                out[chosen, c] = means[labels[chosen]]
            img = to_image_dtype(out.reshape(img.shape), src.dtype)
        if img.shape[:2] != (height, width):
            img = cv2.resize(img, (width, height), interpolation=flag)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(p_replace={self.p_replace}, '
                f'n_segments={self.n_segments}, max_size={self.max_size}, '
                f"interpolation='{self.interpolation}', "
                f"channel_order='{self.channel_order}', prob={self.prob})")
