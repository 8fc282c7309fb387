# Copyright (c) mmpathseg contributors. All rights reserved.
"""The three aggregation conventions on cases built to separate them."""
import math
import warnings

import numpy as np
import pytest

from mmpathseg.evaluation.metrics.instance_stats import nuclei_image_stats
from mmpathseg.evaluation.metrics.nuclei_aggregation import (
    aggregate_nuclei_stats, r2_score)

CLASSES = ['A', 'B']


def _square(m, t, r, c, inst_id, cls, size=4):
    m[r:r + size, c:c + size] = inst_id
    t[r:r + size, c:c + size] = cls


def image_one():
    """One A and one B nucleus, both predicted exactly (PQ 1 everywhere)."""
    gt = np.zeros((20, 20), np.int32)
    gt_t = np.zeros_like(gt)
    _square(gt, gt_t, 0, 0, 1, 1)
    _square(gt, gt_t, 10, 10, 2, 2)
    return gt, gt_t, gt.copy(), gt_t.copy()


def image_two():
    """Three A nuclei, none predicted; no B in the GT but two B predicted.

    Per image: A: TP 0, FN 3 -> PQ 0; B: no GT -> NaN (its 2 FPs ignored);
    mPQ = 0; binary: TP 0, FP 2, FN 3 -> bPQ 0.
    """
    gt = np.zeros((20, 20), np.int32)
    gt_t = np.zeros_like(gt)
    pred = np.zeros_like(gt)
    pred_t = np.zeros_like(gt)
    for k, (r, c) in enumerate([(0, 0), (0, 10), (10, 0)]):
        _square(gt, gt_t, r, c, k + 1, 1)
    _square(pred, pred_t, 15, 15, 1, 2, size=3)
    _square(pred, pred_t, 10, 15, 2, 2, size=3)
    return gt, gt_t, pred, pred_t


def stats(maps):
    return nuclei_image_stats(*maps, num_classes=2)


def test_image_and_dataset_conventions_differ_as_computed_by_hand():
    """Images one and two.

    'image': PQ.A = mean(1, 0) = 0.5; PQ.B = mean(1, NaN) = 1;
    mPQ = mean(1, 0) = 0.5; bPQ = mean(1, 0) = 0.5.
    'dataset' (pooled): A: TP 1, FP 0, FN 3, IoU sum 1 -> DQ = 1 / 2.5 = 0.4,
    SQ 1, PQ 0.4; B: TP 1, FP 2, FN 0 -> DQ = 1 / 2 = 0.5, PQ 0.5;
    mPQ = 0.45; binary: TP 2, FP 2, FN 3 -> DQ = 2 / 4.5 = 4/9, bPQ = 4/9.
    """
    s = [stats(image_one()), stats(image_two())]
    img = aggregate_nuclei_stats(s, 'image', CLASSES)
    assert img['PQ.A'] == pytest.approx(0.5)
    assert img['PQ.B'] == pytest.approx(1.0)
    assert img['mPQ'] == pytest.approx(0.5)
    assert img['bPQ'] == pytest.approx(0.5)
    pooled = aggregate_nuclei_stats(s, 'dataset', CLASSES)
    assert pooled['PQ.A'] == pytest.approx(0.4)
    assert pooled['DQ.B'] == pytest.approx(0.5)
    assert pooled['PQ.B'] == pytest.approx(0.5)
    assert pooled['mPQ'] == pytest.approx(0.45)
    assert pooled['bPQ'] == pytest.approx(4 / 9)
    assert pooled['bSQ'] == pytest.approx(1.0)


def test_tissue_averaging_differs_from_image_averaging():
    """Images one (tissue X), two (X) and one again (Y).

    'image': mPQ = mean(1, 0, 1) = 2/3; bPQ = 2/3.
    'tissue': X = mean(1, 0) = 0.5, Y = 1 -> mPQ = bPQ = 0.75.
    Per-class PQ stays image-averaged (PanNuke run.py): PQ.A = 2/3.
    """
    s = [stats(image_one()), stats(image_two()), stats(image_one())]
    tissues = ['X', 'X', 'Y']
    img = aggregate_nuclei_stats(s, 'image', CLASSES)
    assert img['mPQ'] == pytest.approx(2 / 3)
    assert img['bPQ'] == pytest.approx(2 / 3)
    tis = aggregate_nuclei_stats(s, 'tissue', CLASSES, tissues=tissues)
    assert tis['mPQ'] == pytest.approx(0.75)
    assert tis['bPQ'] == pytest.approx(0.75)
    assert tis['mPQ.X'] == pytest.approx(0.5)
    assert tis['mPQ.Y'] == pytest.approx(1.0)
    assert tis['PQ.A'] == pytest.approx(2 / 3)
    # tissue order follows `tissue_order`, unknown tissues appended
    keys = [k for k in aggregate_nuclei_stats(
        s, 'tissue', CLASSES, tissues, tissue_order=['Y', 'Z'])
        if k.startswith('mPQ.')]
    assert keys == ['mPQ.Y', 'mPQ.X']
    with pytest.raises(ValueError, match='needs the tissue'):
        aggregate_nuclei_stats(s, 'tissue', CLASSES)


def test_empty_images_per_convention():
    """Edge cases, per convention.

    both empty: 'image' skips it (all NaN); 'dataset' adds nothing.
    empty GT + 1 prediction: 'image' skips it for the PQ family but scores
    Dice/AJI 0; 'dataset' adds one FP.
    empty prediction: 0 under every convention.
    """
    empty = np.zeros((20, 20), np.int32)
    one = image_one()
    gt_only = (one[0], one[1], empty, empty)
    pred_only = (empty, empty, one[2], one[3])
    nothing = (empty, empty, empty, empty)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        # both empty alone: every score NaN, no crash, no warning
        for agg in ('image', 'dataset'):
            out = aggregate_nuclei_stats([stats(nothing)], agg, CLASSES)
            assert all(math.isnan(out[k]) for k in (
                'bPQ', 'mPQ', 'PQ.A', 'Dice', 'AJI', 'AJI+', 'Dice2')), agg
        out = aggregate_nuclei_stats([stats(nothing)], 'tissue', CLASSES,
                                     tissues=['X'])
        assert math.isnan(out['mPQ']) and math.isnan(out['mPQ.X'])
        # a perfect image plus a both-empty image: unchanged
        s = [stats(one), stats(nothing)]
        for agg in ('image', 'dataset'):
            out = aggregate_nuclei_stats(s, agg, CLASSES)
            assert out['bPQ'] == out['mPQ'] == out['Dice'] == 1.0, agg
        # plus an empty-GT image with 2 predicted nuclei
        s = [stats(one), stats(pred_only)]
        img = aggregate_nuclei_stats(s, 'image', CLASSES)
        assert img['bPQ'] == img['mPQ'] == 1.0
        assert img['Dice'] == pytest.approx(0.5)  # mean(1, 0)
        assert img['AJI'] == pytest.approx(0.5)
        pooled = aggregate_nuclei_stats(s, 'dataset', CLASSES)
        # binary: TP 2, FP 2 -> DQ = 2 / 3; A and B: TP 1, FP 1 -> 2/3
        assert pooled['bPQ'] == pytest.approx(2 / 3)
        assert pooled['PQ.A'] == pytest.approx(2 / 3)
        assert pooled['Dice'] == pytest.approx(2 * 32 / (32 + 64))
        # empty prediction only
        for agg in ('image', 'dataset'):
            out = aggregate_nuclei_stats([stats(gt_only)], agg, CLASSES)
            assert out['bPQ'] == out['mPQ'] == out['PQ.B'] == 0.0, agg
            assert out['Dice'] == out['AJI'] == 0.0, agg


def test_class_absent_everywhere_is_nan_and_skipped():
    """Only class A in GT and prediction: B is NaN under every convention
    and mPQ is the PQ of A."""
    gt = np.zeros((10, 10), np.int32)
    gt_t = np.zeros_like(gt)
    _square(gt, gt_t, 0, 0, 1, 1)
    s = [stats((gt, gt_t, gt, gt_t))]
    for agg, kw in (('image', {}), ('dataset', {}),
                    ('tissue', dict(tissues=['X']))):
        out = aggregate_nuclei_stats(s, agg, CLASSES, **kw)
        assert math.isnan(out['PQ.B']), agg
        assert out['mPQ'] == 1.0, agg


def test_r2_by_hand_and_sklearn_edge_rules():
    # y = (1, 3, 2), y_hat = (1, 1, 2): SS_res = 4, SS_tot = 2 -> 1 - 2 = -1
    assert r2_score([1, 3, 2], [1, 1, 2]) == pytest.approx(-1.0)
    assert r2_score([2, 2], [2, 2]) == 1.0
    assert r2_score([2, 2], [2, 3]) == 0.0
    assert math.isnan(r2_score([1], [1]))


def test_dataset_r2_from_counts():
    """Counts per image (A, B): GT (1, 1), (3, 0); pred (1, 1), (0, 2).
    A: y = (1, 3), y_hat = (1, 0): SS_res = 9, SS_tot = 2 -> R2 = -3.5.
    B: y = (1, 0), y_hat = (1, 2): SS_res = 4, SS_tot = 0.5 -> R2 = -7.
    R2 = mean = -5.25."""
    s = [stats(image_one()), stats(image_two())]
    out = aggregate_nuclei_stats(s, 'dataset', CLASSES)
    assert out['R2.A'] == pytest.approx(-3.5)
    assert out['R2.B'] == pytest.approx(-7.0)
    assert out['R2'] == pytest.approx(-5.25)
    assert 'R2' not in aggregate_nuclei_stats(s, 'image', CLASSES)


def test_bad_arguments():
    s = [stats(image_one())]
    with pytest.raises(ValueError, match="one of \\['image', 'tissue'"):
        aggregate_nuclei_stats(s, 'pooled', CLASSES)
    with pytest.raises(ValueError, match='3 class names'):
        aggregate_nuclei_stats(s, 'image', ['A', 'B', 'C'])
    with pytest.raises(ValueError, match='No per-image'):
        aggregate_nuclei_stats([], 'image', CLASSES)
