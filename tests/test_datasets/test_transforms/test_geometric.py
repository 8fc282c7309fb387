# Copyright (c) mmpathseg contributors. All rights reserved.
"""Geometric augmentations keep image, type map and instance map aligned:
ids after are a subset of ids before, each instance keeps its one type, and
flips / quarter turns are exactly invertible."""
import cv2
import numpy as np
import pytest

from mmpathseg.datasets.transforms import (ElasticTransform, RandomRotate90,
                                           RandomSizedCrop)
from mmpathseg.datasets.transforms.geometric import _reflect_101
from mmpathseg.registry import TRANSFORMS

MAP_KEYS = ('gt_seg_map', 'gt_inst_map')


def test_random_rotate90_is_invertible(nuclei_sample, check_instances):
    transform = TRANSFORMS.build(dict(type='RandomRotate90', prob=1.0))
    assert isinstance(transform, RandomRotate90)
    seen = set()
    for seed in range(12):
        np.random.seed(seed)
        results, before = nuclei_sample(height=40, width=56, seed=seed)
        out = transform(results)
        k = out['rotate90_k']
        seen.add(k)
        check_instances(before, out)
        expected_shape = (40, 56) if k % 2 == 0 else (56, 40)
        assert out['img_shape'] == expected_shape
        for key in ('img', ) + MAP_KEYS:
            np.testing.assert_array_equal(np.rot90(out[key], -k), before[key])
    assert seen == {0, 1, 2, 3}
    np.random.seed(0)
    results, before = nuclei_sample()
    out = RandomRotate90(prob=0.0)(results)
    assert out['rotate90_k'] == 0
    np.testing.assert_array_equal(out['gt_inst_map'], before['gt_inst_map'])


@pytest.mark.parametrize('direction', ['horizontal', 'vertical'])
def test_mmseg_random_flip_moves_instance_map(nuclei_sample, check_instances,
                                              direction):
    """mmseg's RandomFlip flips every key of ``seg_fields``."""
    flip = TRANSFORMS.build(
        dict(type='RandomFlip', prob=1.0, direction=direction))
    results, before = nuclei_sample()
    out = flip(results)
    check_instances(before, out)
    axis = 1 if direction == 'horizontal' else 0
    for key in ('img', ) + MAP_KEYS:
        np.testing.assert_array_equal(np.flip(out[key], axis), before[key])
    again = flip(dict(out))
    for key in ('img', ) + MAP_KEYS:
        np.testing.assert_array_equal(again[key], before[key])


def test_random_sized_crop(nuclei_sample, check_instances):
    transform = TRANSFORMS.build(
        dict(type='RandomSizedCrop', min_max_height=(20, 64), prob=1.0))
    assert isinstance(transform, RandomSizedCrop)
    for seed in range(8):
        np.random.seed(seed)
        results, before = nuclei_sample(seed=seed)
        out = transform(results)
        assert out['img'].shape == (64, 64, 3)
        assert out['img_shape'] == (64, 64)
        check_instances(before, out)
    # Explicit output size, non-square crop.
    results, before = nuclei_sample(height=48, width=80)
    out = RandomSizedCrop((24, 40), size=(30, 50), w2h_ratio=1.5,
                          prob=1.0)(results)
    assert out['img'].shape[:2] == out['gt_inst_map'].shape == (30, 50)
    check_instances(before, out)


def test_random_sized_crop_window_values(nuclei_sample):
    """A 32 px window enlarged to 64 px: each label pixel repeated 2 x 2,
    the image interpolated bilinearly from the same window."""
    transform = RandomSizedCrop((32, 32), prob=1.0)
    transform._random_window = lambda height, width: (5, 9, 32, 32)
    results, before = nuclei_sample()
    out = transform(results)
    for key in MAP_KEYS:
        window = before[key][5:37, 9:41]
        np.testing.assert_array_equal(out[key],
                                      window.repeat(2, 0).repeat(2, 1))
    np.testing.assert_array_equal(
        out['img'],
        cv2.resize(before['img'][5:37, 9:41], (64, 64),
                   interpolation=cv2.INTER_LINEAR))
    # Full-size window: identity.
    transform = RandomSizedCrop((64, 64), prob=1.0)
    results, before = nuclei_sample()
    out = transform(results)
    for key in ('img', ) + MAP_KEYS:
        np.testing.assert_array_equal(out[key], before[key])
    with pytest.raises(ValueError, match='does not fit'):
        RandomSizedCrop((65, 70), prob=1.0)(nuclei_sample()[0])


@pytest.mark.parametrize('border_mode', ['reflect_101', 'constant'])
def test_elastic_transform(nuclei_sample, check_instances, border_mode):
    transform = TRANSFORMS.build(
        dict(
            type='ElasticTransform',
            alpha_affine=15,
            border_mode=border_mode,
            prob=1.0))
    assert isinstance(transform, ElasticTransform)
    changed = 0
    for seed in range(6):
        np.random.seed(seed)
        results, before = nuclei_sample(seed=seed)
        out = transform(results)
        assert out['img'].shape == before['img'].shape
        check_instances(before, out)
        changed += not np.array_equal(out['gt_inst_map'],
                                      before['gt_inst_map'])
    assert changed == 6
    # Strong displacement field too.
    np.random.seed(0)
    results, before = nuclei_sample()
    out = ElasticTransform(
        alpha=200, sigma=4, alpha_affine=0, border_mode=border_mode,
        prob=1.0)(results)
    check_instances(before, out)


def test_elastic_identity_and_constant_border(nuclei_sample):
    np.random.seed(0)
    results, before = nuclei_sample()
    out = ElasticTransform(alpha=0, alpha_affine=0, prob=1.0)(results)
    for key in MAP_KEYS:
        np.testing.assert_array_equal(out[key], before[key])
    assert np.abs(out['img'].astype(int) - before['img']).max() <= 1
    # A pure shift by 10 px to the right (all control points moved alike).
    transform = ElasticTransform(alpha=0, border_mode='constant', prob=1.0)
    height, width = 64, 64
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    transform._random_grid = lambda h, w: (xs - 10, ys)
    results, before = nuclei_sample()
    out = transform(results)
    for key in MAP_KEYS:
        assert not out[key][:, :10].any()
        np.testing.assert_array_equal(out[key][:, 10:], before[key][:, :-10])
    assert not out['img'][:, :10].any()


def test_reflect_101_matches_opencv():
    for size in (1, 2, 5, 8):
        index = np.arange(-3 * size - 2, 4 * size + 3)
        expected = [
            cv2.borderInterpolate(int(i), size, cv2.BORDER_REFLECT_101)
            for i in index
        ]
        np.testing.assert_array_equal(_reflect_101(index, size), expected)


@pytest.mark.parametrize('transform', [
    RandomRotate90(prob=1.0),
    RandomSizedCrop((32, 32), prob=1.0),
    ElasticTransform(prob=1.0),
])
def test_refuses_unlisted_maps_and_early_hv(nuclei_sample, transform):
    results, _ = nuclei_sample()
    results['seg_fields'] = ['gt_seg_map']
    with pytest.raises(ValueError, match="'gt_inst_map'.*seg_fields"):
        transform(results)
    results, _ = nuclei_sample()
    results['gt_hv_map'] = np.zeros((2, 64, 64), np.float32)
    with pytest.raises(ValueError, match='GenerateHVMap'):
        transform(results)


def test_nucls_through_geometric_transforms(nucls_samples, check_instances):
    import copy
    pipeline = [
        RandomRotate90(prob=1.0),
        TRANSFORMS.build(
            dict(type='RandomFlip', prob=1.0, direction='horizontal')),
        RandomSizedCrop((128, 256), prob=1.0),
        ElasticTransform(prob=1.0),
    ]
    np.random.seed(0)
    for sample in nucls_samples[:3]:
        before = copy.deepcopy(sample)
        results = copy.deepcopy(sample)
        for transform in pipeline:
            results = transform(results)
            check_instances(before, results)
