# Copyright (c) mmpathseg contributors. All rights reserved.
"""Sparse overlaps and pairings against a straightforward per-instance
implementation of the published definitions (one mask per instance, dense
IoU matrix, dense Hungarian)."""
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mmpathseg.evaluation.metrics.instance_matching import (
    aji_plus_sums, aji_sums, compact_labels, dice2_sums, instance_overlaps,
    match_instances, max_weight_pairing)


# --------------------------------------------------------------------------
# Per-instance reference (written from the definitions, not optimised).
def _dense(gt, pred):
    gt_ids = [i for i in np.unique(gt) if i != 0]
    pred_ids = [i for i in np.unique(pred) if i != 0]
    col = {p: b for b, p in enumerate(pred_ids)}
    inter = np.zeros((len(gt_ids), len(pred_ids)))
    union = np.zeros((len(gt_ids), len(pred_ids)))
    pred_masks = {p: pred == p for p in pred_ids}
    for a, g in enumerate(gt_ids):
        gm = gt == g
        for p in np.unique(pred[gm]):
            if p == 0:
                continue
            pm = pred_masks[p]
            inter[a, col[p]] = (gm & pm).sum()
            union[a, col[p]] = (gm | pm).sum()
    gt_area = np.array([(gt == g).sum() for g in gt_ids])
    pred_area = np.array([pred_masks[p].sum() for p in pred_ids])
    return inter, union, gt_area, pred_area


def reference_pq_counts(gt, pred, match_iou=0.5):
    inter, union, gt_area, pred_area = _dense(gt, pred)
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    if match_iou >= 0.5:
        rows, cols = np.nonzero(iou > match_iou)
    else:
        rows, cols = linear_sum_assignment(-iou)
        keep = iou[rows, cols] > match_iou
        rows, cols = rows[keep], cols[keep]
    tp = len(rows)
    return tp, len(pred_area) - tp, len(gt_area) - tp, iou[rows, cols].sum()


def reference_aji(gt, pred):
    inter, union, gt_area, pred_area = _dense(gt, pred)
    if inter.size == 0:
        return 0, gt_area.sum() + pred_area.sum()
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    best = iou.argmax(axis=1)
    has = iou.max(axis=1) > 0
    rows = np.flatnonzero(has)
    i = inter[rows, best[has]].sum()
    u = union[rows, best[has]].sum()
    u += gt_area[~has].sum()
    used = np.zeros(len(pred_area), bool)
    used[best[has]] = True
    u += pred_area[~used].sum()
    return i, u


def reference_aji_plus(gt, pred):
    inter, union, gt_area, pred_area = _dense(gt, pred)
    if inter.size == 0:
        return 0, gt_area.sum() + pred_area.sum()
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    rows, cols = linear_sum_assignment(-iou)
    keep = iou[rows, cols] > 0
    rows, cols = rows[keep], cols[keep]
    i, u = inter[rows, cols].sum(), union[rows, cols].sum()
    gt_used = np.zeros(len(gt_area), bool)
    gt_used[rows] = True
    pred_used = np.zeros(len(pred_area), bool)
    pred_used[cols] = True
    return i, u + gt_area[~gt_used].sum() + pred_area[~pred_used].sum()


def reference_dice2(gt, pred):
    inter, union, gt_area, pred_area = _dense(gt, pred)
    total = gt_area[:, None] + pred_area[None, :]
    return inter.sum(), total[inter > 0].sum()


def random_instance_map(rng, size=64, num=25, id_pool=10**6):
    """Overlapping random ellipses painted in turn, random sparse ids."""
    out = np.zeros((size, size), np.int64)
    rows, cols = np.indices((size, size))
    ids = rng.choice(np.arange(1, id_pool), size=num, replace=False)
    for inst_id in ids:
        cy, cx = rng.uniform(0, size, 2)
        ry, rx = rng.uniform(2, 8, 2)
        out[((rows - cy) / ry)**2 + ((cols - cx) / rx)**2 <= 1] = inst_id
    return out


def jitter(rng, inst, shift=2):
    """A plausible prediction: shifted, some instances dropped/merged."""
    pred = np.roll(inst, (rng.integers(-shift, shift + 1),
                          rng.integers(-shift, shift + 1)), axis=(0, 1))
    ids = [i for i in np.unique(pred) if i]
    for inst_id in ids:
        r = rng.random()
        if r < 0.15:
            pred[pred == inst_id] = 0
        elif r < 0.3 and len(ids) > 1:
            pred[pred == inst_id] = ids[0]
    return pred * 7 + (pred > 0) * 3  # other ids, still unique


# --------------------------------------------------------------------------
def test_compact_labels_keeps_id_order_and_areas():
    inst = np.array([[0, 9, 9], [1000, 0, 3], [3, 3, 0]], np.int32)
    lab = compact_labels(inst)
    np.testing.assert_array_equal(lab.ids, [3, 9, 1000])
    np.testing.assert_array_equal(lab.areas, [3, 2, 1])
    np.testing.assert_array_equal(
        lab.labels, [[0, 2, 2], [3, 0, 1], [1, 1, 0]])


def test_compact_labels_huge_ids_and_no_background():
    inst = np.array([[2**31 - 1, 5], [5, 2**31 - 1]], np.int64)
    lab = compact_labels(inst)
    np.testing.assert_array_equal(lab.ids, [5, 2**31 - 1])
    np.testing.assert_array_equal(lab.labels, [[2, 1], [1, 2]])
    np.testing.assert_array_equal(lab.areas, [2, 2])


def test_compact_labels_rejects_bad_maps():
    with pytest.raises(ValueError, match='negative id -1'):
        compact_labels(np.array([[0, -1]]))
    with pytest.raises(TypeError, match='integer instance ids'):
        compact_labels(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match='differ in shape'):
        instance_overlaps(np.zeros((2, 2), int), np.zeros((2, 3), int))


@pytest.mark.parametrize('backend', ['numpy', 'compiled'])
@pytest.mark.parametrize('seed', range(6))
def test_sparse_stats_equal_per_instance_reference(seed, backend):
    rng = np.random.default_rng(seed)
    gt = random_instance_map(rng, num=30)
    pred = jitter(rng, gt)
    if seed % 2:
        pred = random_instance_map(rng, num=30)  # unrelated prediction
    ov = instance_overlaps(gt, pred, backend=backend)
    for thr in (0.5, 0.3, 0.0):
        matched = match_instances(ov, thr)
        tp, fp, fn, iou_sum = reference_pq_counts(gt, pred, thr)
        assert len(matched) == tp
        assert ov.pred.num - len(matched) == fp
        assert ov.gt.num - len(matched) == fn
        assert ov.iou[matched].sum() == pytest.approx(iou_sum, abs=1e-12)
    assert aji_sums(ov) == tuple(int(v) for v in reference_aji(gt, pred))
    assert aji_plus_sums(ov) == tuple(
        int(v) for v in reference_aji_plus(gt, pred))
    assert dice2_sums(ov) == tuple(int(v) for v in reference_dice2(gt, pred))


def test_max_weight_pairing_matches_dense_hungarian_value():
    rng = np.random.default_rng(0)
    for _ in range(20):
        dense = rng.random((7, 6)) * (rng.random((7, 6)) < 0.3)
        rows, cols = np.nonzero(dense)
        picked = max_weight_pairing(rows, cols, dense[rows, cols], 7, 6)
        r, c = linear_sum_assignment(-dense)
        assert dense[rows[picked], cols[picked]].sum() == pytest.approx(
            dense[r, c].sum())
        # one-to-one
        assert len(set(rows[picked])) == len(picked)
        assert len(set(cols[picked])) == len(picked)


def test_empty_maps():
    empty = np.zeros((4, 4), np.int32)
    one = empty.copy()
    one[1:3, 1:3] = 4
    ov = instance_overlaps(empty, empty)
    assert len(match_instances(ov)) == 0
    assert aji_sums(ov) == (0, 0)
    assert aji_plus_sums(ov) == (0, 0)
    assert dice2_sums(ov) == (0, 0)
    # empty prediction: the GT area is all union
    assert aji_sums(instance_overlaps(one, empty)) == (0, 4)
    assert aji_plus_sums(instance_overlaps(empty, one)) == (0, 4)


def test_real_tiles_equal_per_instance_reference(shared_fixtures):
    """NuCLS tiles (touching nuclei): GT against a shifted copy with dropped
    and merged nuclei."""
    paths = sorted((shared_fixtures / 'nucls' / 'labels').glob('*.npz'))
    if not paths:
        pytest.skip(f'no NuCLS labels under {shared_fixtures}/nucls/labels')
    rng = np.random.default_rng(1)
    for path in paths[:3]:
        with np.load(path, allow_pickle=False) as z:
            gt = z['inst_map']
        pred = jitter(rng, gt.astype(np.int64), shift=3)
        ov = instance_overlaps(gt, pred)
        tp, fp, fn, iou_sum = reference_pq_counts(gt, pred)
        matched = match_instances(ov)
        assert (len(matched), ov.pred.num - len(matched),
                ov.gt.num - len(matched)) == (tp, fp, fn)
        assert ov.iou[matched].sum() == pytest.approx(iou_sum, abs=1e-12)
        assert aji_sums(ov) == tuple(int(v) for v in reference_aji(gt, pred))
        assert aji_plus_sums(ov) == tuple(
            int(v) for v in reference_aji_plus(gt, pred))
