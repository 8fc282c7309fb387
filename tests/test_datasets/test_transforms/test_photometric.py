# Copyright (c) mmpathseg contributors. All rights reserved.
"""Image-only augmentations: label maps untouched, shape and dtype kept,
and the published formulas on inputs whose output is known."""
import cv2
import numpy as np
import pytest
from skimage.segmentation import slic

from mmpathseg.datasets.transforms import (Blur, ColorJitter, Downscale,
                                           GaussNoise, Superpixels, ZoomBlur)
from mmpathseg.registry import TRANSFORMS

IMAGE_ONLY = [
    dict(type='Blur'),
    dict(type='GaussNoise'),
    dict(type='ColorJitter'),
    dict(type='Superpixels', max_size=32),
    dict(type='ZoomBlur'),
    dict(type='Downscale'),
]


@pytest.mark.parametrize('cfg', IMAGE_ONLY, ids=lambda c: c['type'])
def test_image_only(nuclei_sample, cfg):
    transform = TRANSFORMS.build(dict(cfg, prob=1.0))
    for dtype in (np.uint8, np.float32):
        np.random.seed(1)
        results, before = nuclei_sample()
        results['img'] = results['img'].astype(dtype)
        out = transform(results)
        assert out['img'].shape == before['img'].shape
        assert out['img'].dtype == dtype
        assert 0 <= out['img'].min() and out['img'].max() <= 255
        for key in ('gt_seg_map', 'gt_inst_map'):
            np.testing.assert_array_equal(out[key], before[key])
    # prob=0: identity.
    results, before = nuclei_sample()
    out = TRANSFORMS.build(dict(cfg, prob=0.0))(results)
    np.testing.assert_array_equal(out['img'], before['img'])


def test_blur_kernel_sizes():
    img = np.zeros((31, 31, 3), np.uint8)
    img[15, 15] = 255
    sizes = set()
    for seed in range(40):
        np.random.seed(seed)
        out = Blur(blur_limit=10, prob=1.0)(dict(img=img.copy()))['img']
        ksize = int(np.sqrt(np.count_nonzero(out[..., 0])))
        assert ksize**2 == np.count_nonzero(out[..., 0])
        sizes.add(ksize)
    assert sizes == {3, 5, 7, 9}


def test_gauss_noise():
    img = np.full((64, 64, 3), 128, np.uint8)
    np.random.seed(0)
    out = GaussNoise(var_limit=(0, 0), prob=1.0)(dict(img=img.copy()))
    np.testing.assert_array_equal(out['img'], img)
    out = GaussNoise(
        var_limit=(100, 100), per_channel=False,
        prob=1.0)(dict(img=img.copy()))['img'].astype(float)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    assert 9 < (out - 128).std() < 11
    with pytest.raises(ValueError, match='var_limit'):
        GaussNoise(var_limit=(5, 1))


def _fixed_jitter(factors, order, channel_order='bgr'):
    transform = ColorJitter(channel_order=channel_order, prob=1.0)
    transform._random_params = lambda: (factors, np.array(order))
    return transform


def test_color_jitter_formulas():
    red_bgr = np.zeros((2, 2, 3), np.uint8)
    red_bgr[..., 2] = 200
    # Brightness 0.5 only.
    out = _fixed_jitter([0.5, 1, 1, 0], [0, 1, 2, 3])(dict(img=red_bgr))
    np.testing.assert_array_equal(out['img'][0, 0], [0, 0, 100])
    # Saturation 0: grey with the weights of the channel order
    # (0.299 R + 0.587 G + 0.114 B).
    out = _fixed_jitter([1, 1, 0, 0], [2, 0, 1, 3])(dict(img=red_bgr))
    np.testing.assert_array_equal(out['img'][0, 0], [60, 60, 60])
    out = _fixed_jitter([1, 1, 0, 0], [2, 0, 1, 3],
                        'rgb')(dict(img=red_bgr))  # read as blue
    np.testing.assert_array_equal(out['img'][0, 0], [23, 23, 23])
    # Contrast 0: the mean grey level everywhere.
    half = red_bgr.copy()
    half[0] = 0
    out = _fixed_jitter([1, 0, 1, 0], [1, 0, 2, 3])(dict(img=half))
    np.testing.assert_array_equal(out['img'], np.full_like(half, 30))
    # Hue +1/3 of the wheel: red -> green.
    out = _fixed_jitter([1, 1, 1, 1 / 3], [3, 0, 1, 2])(dict(img=red_bgr))
    np.testing.assert_array_equal(out['img'][0, 0], [0, 200, 0])
    # Grey pixels have no hue or saturation to change.
    grey = np.full((4, 4, 3), 77, np.uint8)
    out = _fixed_jitter([1, 1, 1.1, 0.05], [0, 1, 2, 3])(dict(img=grey))
    np.testing.assert_array_equal(out['img'], grey)


def test_color_jitter_ranges():
    transform = ColorJitter(prob=1.0)
    np.random.seed(0)
    for _ in range(50):
        (b, c, s, h), order = transform._random_params()
        assert 0.75 <= b <= 1.25 and 0.75 <= c <= 1.25
        assert 0.9 <= s <= 1.1 and -0.05 <= h <= 0.05
        assert sorted(order) == [0, 1, 2, 3]


def test_superpixels():
    # Two flat halves: every superpixel mean is its own colour.
    img = np.zeros((48, 48, 3), np.uint8)
    img[:, :24] = (30, 60, 200)
    img[:, 24:] = (180, 90, 20)
    np.random.seed(0)
    out = Superpixels(p_replace=1.0, n_segments=20, max_size=None,
                      prob=1.0)(dict(img=img.copy()))
    np.testing.assert_array_equal(out['img'], img)
    # All replaced: one colour per superpixel, each its segment's mean.
    rng = np.random.default_rng(0)
    smooth = cv2.resize(
        rng.integers(0, 256, (8, 8, 3)).astype(np.uint8), (64, 64),
        interpolation=cv2.INTER_CUBIC)
    segments = slic(
        smooth[..., ::-1].copy(),
        n_segments=30,
        compactness=10,
        start_label=1,
        channel_axis=-1)
    assert segments.max() > 5
    out = Superpixels(p_replace=1.0, n_segments=30, max_size=None,
                      prob=1.0)(dict(img=smooth.copy()))['img']
    for label in np.unique(segments):
        inside = segments == label
        expected = np.rint(smooth[inside].mean(0))
        assert (out[inside] == expected).all()
    noisy = rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)
    # p_replace=0: nothing replaced, not even resized.
    out = Superpixels(p_replace=0.0, prob=1.0)(dict(img=noisy.copy()))
    np.testing.assert_array_equal(out['img'], noisy)


def test_zoom_blur():
    flat = np.full((40, 40, 3), 90, np.uint8)
    np.random.seed(0)
    out = ZoomBlur(max_factor=1.3, prob=1.0)(dict(img=flat.copy()))['img']
    np.testing.assert_array_equal(out, flat)
    # max_factor 1: no zoomed copies, identity.
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 40, 3)).astype(np.uint8)
    out = ZoomBlur(max_factor=1.0, prob=1.0)(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(out, img)
    out = ZoomBlur(max_factor=1.3, prob=1.0)(dict(img=img.copy()))['img']
    assert out.std() < img.std()
    zoom = ZoomBlur._central_zoom(img, 2.0)
    assert zoom.shape == img.shape


def test_downscale():
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    img = blocks.repeat(2, 0).repeat(2, 1)  # 2 x 2 constant blocks
    np.random.seed(0)
    out = Downscale(prob=1.0)(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(out, img)
    noisy = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    out = Downscale(
        scale_range=(0.25, 0.25),
        down_interpolation='area',
        up_interpolation='linear',
        prob=1.0)(dict(img=noisy.copy()))['img']
    assert out.shape == noisy.shape and out.std() < noisy.std()
    with pytest.raises(ValueError, match='below 1'):
        Downscale(scale_range=(0.5, 1.0))
