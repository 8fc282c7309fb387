# Copyright (c) mmpathseg contributors. All rights reserved.
"""The compiled label kernels against numpy, scipy and OpenCV."""
import cv2
import numpy as np
import pytest
from scipy import ndimage

from mmpathseg.evaluation.metrics.instance_matching import instance_overlaps
from mmpathseg.ops import (compiled_available, label_areas, label_kernels,
                           label_moments, relabel_pairs,
                           trace_single_contours, use_compiled)

EIGHT = np.ones((3, 3), int)


def test_compiled_kernels_are_built():
    # tools/setup_env.sh builds them; a missing build would only show up as
    # a warning and slower post-processing otherwise.
    assert compiled_available(), (
        'mmpathseg/ops/_label_kernels*.so is missing: run `python setup.py '
        'build_ext --inplace` (tools/setup_env.sh does).')


def random_labels(rng, shape, num_ids, fill=0.6):
    noise = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0),
                             1.2)
    labels = (noise * 97).astype(np.int32) % num_ids + 1
    labels[rng.random(shape) > fill] = 0
    return labels


def test_moments_match_numpy_and_scipy():
    rng = np.random.default_rng(0)
    for _ in range(20):
        shape = tuple(int(v) for v in rng.integers(1, 40, 2))
        labels = random_labels(rng, shape, 9)
        types = rng.integers(0, 4, shape).astype(np.int32)
        max_id = int(labels.max())
        got = label_moments(labels, max_id, types, 4)
        for i in range(1, max_id + 1):
            ys, xs = np.nonzero(labels == i)
            if not ys.size:
                assert got['area'][i] == 0 and got['first'][i] == -1
                continue
            assert got['area'][i] == ys.size
            assert got['sum_x'][i] == xs.sum() and got['sum_y'][i] == ys.sum()
            assert [got[k][i] for k in ('min_x', 'min_y', 'max_x', 'max_y')
                    ] == [xs.min(), ys.min(), xs.max(), ys.max()]
            assert got['first'][i] == ys[0] * shape[1] + xs[0]
            assert got['components'][i] == ndimage.label(labels == i,
                                                         EIGHT)[1]
            assert got['votes'][i].tolist() == np.bincount(
                types[labels == i], minlength=4).tolist()


def test_components_of_hand_built_shapes():
    labels = np.zeros((7, 9), np.int32)
    labels[0, 0] = labels[1, 1] = 1  # diagonal: one component
    labels[0, 3:6] = 2  # a U: two raster starts, one component
    labels[1, 3] = labels[1, 5] = 2
    labels[2, 3:6] = 2
    labels[4, 0] = labels[4, 2] = 3  # two components
    labels[4:7, 5:8] = 4  # ring with an island of the same id: two
    labels[5, 6] = 0
    labels[6, 8] = 4  # touches the ring diagonally: same component
    got = label_moments(labels, 4)['components']
    assert got[1:].tolist() == [1, 1, 2, 1]
    labels[5, 6] = 0
    labels[2, 8] = 4
    assert label_moments(labels, 4)['components'][4] == 2


def crop_contour(mask):
    ys, xs = np.nonzero(mask)
    crop = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    found = cv2.findContours(
        crop.astype(np.uint8), cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0]
    return found[0].reshape(-1, 2) + [xs.min(), ys.min()]


def test_traced_contours_equal_opencv_on_random_shapes():
    rng = np.random.default_rng(1)
    checked = 0
    for trial in range(400):
        shape = tuple(int(v) for v in rng.integers(1, 14, 2))
        mask = rng.random(shape) < rng.uniform(0.3, 0.95)
        if trial % 2:
            mask = cv2.dilate(mask.astype(np.uint8), np.ones((2, 2)))
        labels = mask.astype(np.int32) * 3
        if not labels.any():
            continue
        moments = label_moments(labels, 3)
        contour = trace_single_contours(labels, moments['first'][3:],
                                        moments['components'][3:],
                                        moments['area'][3:])[0]
        if moments['components'][3] > 1:
            assert contour is None
            continue
        checked += 1
        assert np.array_equal(contour, crop_contour(labels == 3)), labels
    assert checked > 150


def test_contours_ignore_touching_neighbours():
    labels = np.zeros((8, 8), np.int32)
    labels[1:6, 1:4] = 1
    labels[2:7, 4:7] = 2  # shares a border with 1
    labels[6, 1] = 3  # single pixel below 1
    moments = label_moments(labels, 3)
    ids = np.array([1, 2, 3])
    contours = trace_single_contours(labels, moments['first'][ids],
                                     moments['components'][ids],
                                     moments['area'][ids])
    for i, contour in zip(ids, contours):
        assert np.array_equal(contour, crop_contour(labels == i))
    assert contours[2].tolist() == [[1, 6]]


def test_relabel_pairs_and_overlaps_equal_numpy():
    rng = np.random.default_rng(2)
    for _ in range(10):
        shape = tuple(int(v) for v in rng.integers(5, 50, 2))
        gt = random_labels(rng, shape, 12) * 3
        pred = random_labels(rng, shape, 15)
        for a, b in ((gt, pred), (pred, gt), (gt, np.zeros_like(gt))):
            ref = instance_overlaps(a, b, backend='numpy')
            got = instance_overlaps(a, b, backend='compiled')
            for name in ('pair_gt', 'pair_pred', 'inter', 'union'):
                assert np.array_equal(getattr(got, name), getattr(ref, name))
            for side in ('gt', 'pred'):
                for name in ('labels', 'ids', 'areas'):
                    left = getattr(getattr(got, side), name)
                    right = getattr(getattr(ref, side), name)
                    assert left.dtype == right.dtype
                    assert np.array_equal(left, right)


def test_relabel_pairs_by_hand():
    gt = np.array([[0, 5, 5], [7, 7, 0]], np.int32)
    pred = np.array([[2, 2, 0], [2, 0, 0]], np.int32)
    gt_lut = np.zeros(8, np.int64)
    gt_lut[[5, 7]] = [1, 2]
    pred_lut = np.array([0, 0, 1], np.int64)
    g, p, keys, stride = relabel_pairs(gt, pred, gt_lut, pred_lut)
    assert g.tolist() == [[0, 1, 1], [2, 2, 0]]
    assert p.tolist() == [[1, 1, 0], [1, 0, 0]]
    assert stride == 2 and keys.tolist() == [1 * 2 + 1, 2 * 2 + 1]


def test_label_areas_equal_bincount():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 50, (31, 17)).astype(np.int32)
    assert np.array_equal(label_areas(labels, 60),
                          np.bincount(labels.ravel(), minlength=61))


@pytest.mark.parametrize('dtype', [np.int32, np.int64])
def test_negative_ids_refused_by_both_backends(dtype):
    gt = np.zeros((3, 3), dtype)
    gt[1, 2] = -4
    for backend in ('numpy', 'compiled'):
        with pytest.raises(ValueError, match='negative id'):
            instance_overlaps(gt, np.zeros((3, 3), dtype), backend=backend)


def test_out_of_range_ids_and_types_name_the_pixel():
    labels = np.zeros((3, 4), np.int32)
    labels[2, 1] = 9
    with pytest.raises(ValueError, match=r'row 2, column 1'):
        label_moments(labels, 5)
    labels[2, 1] = 2
    types = np.zeros((3, 4), np.int32)
    types[2, 1] = -1
    with pytest.raises(ValueError, match=r'type outside'):
        label_moments(labels, 2, types, 3)
    with pytest.raises(ValueError, match='look-up table'):
        relabel_pairs(labels, labels, np.zeros(2, np.int64),
                      np.zeros(3, np.int64))


def test_values_beyond_int32_are_refused_not_wrapped():
    labels = np.zeros((2, 2), np.int64)
    labels[0, 1] = 2**31 + 3  # would wrap to a small id
    with pytest.raises(ValueError, match='outside int32'):
        label_moments(labels, 5)
    with pytest.raises(TypeError, match='integers'):
        label_areas(np.zeros((2, 2), np.float32), 1)


def test_backend_choice(monkeypatch):
    with pytest.raises(ValueError, match='backend must be one of'):
        use_compiled('fast')
    assert use_compiled('numpy') is False
    assert use_compiled('compiled') is True
    # Without the library: 'compiled' refuses with the fix, 'auto' warns
    # once and runs numpy.
    monkeypatch.setattr(label_kernels, '_lib', None)
    monkeypatch.setattr(label_kernels, '_load_error', 'not built (test)')
    monkeypatch.setattr(label_kernels, '_warned', False)
    with pytest.raises(RuntimeError, match='build_ext --inplace'):
        use_compiled('compiled')
    with pytest.warns(RuntimeWarning, match='numpy implementation'):
        assert use_compiled('auto') is False
    assert use_compiled('auto') is False  # no second warning
