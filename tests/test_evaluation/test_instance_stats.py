# Copyright (c) mmpathseg contributors. All rights reserved.
"""Per-image nuclei statistics on small maps worked out by hand."""
import warnings

import numpy as np
import pytest

from mmpathseg.evaluation.metrics.detection_pairing import (
    detection_counts, detection_scores, pair_centroids)
from mmpathseg.evaluation.metrics.instance_matching import compact_labels
from mmpathseg.evaluation.metrics.instance_stats import (instance_types,
                                                         nuclei_image_stats)
from mmpathseg.evaluation.metrics.nuclei_aggregation import (
    aggregate_nuclei_stats, per_image_scores, stack_stats)


def three_by_three(gt_ids=(1, 2, 3), pred_ids=(1, 2, 3)):
    """3 GT nuclei, 3 predictions, 2 classes, on a 10 x 12 map.

    GT (type)                         prediction (type)
    A rows 0-3, cols 0-3 16 px (1)    a rows 0-3, cols 0-2  12 px (1)
    B rows 0-3, cols 6-9 16 px (2)    b rows 0-3, cols 7-10 16 px (1)
    C rows 6-7, cols 0-3  8 px (1)    c rows 6-7, cols 2-5   8 px (1)

    IoU(A, a) = 12 / 16 = 0.75; IoU(B, b) = 12 / (16 + 16 - 12) = 0.6;
    IoU(C, c) = 4 / (8 + 8 - 4) = 1/3 (not a match); no other overlap.

    Binary: TP = 2, FP = 1 (c), FN = 1 (C); DQ = 2 / (2 + 0.5 + 0.5) = 2/3,
    SQ = (0.75 + 0.6) / 2 = 0.675, PQ = 0.45.
    Class 1: GT {A, C}, pred {a, b, c}: TP = 1 (A-a), FP = 2, FN = 1;
    DQ = 1 / (1 + 1 + 0.5) = 0.4, SQ = 0.75, PQ = 0.3.
    Class 2: GT {B}, no prediction: TP = 0, FN = 1; DQ = SQ = PQ = 0.
    mPQ = (0.3 + 0) / 2 = 0.15.
    AJI: A->a (12 / 16), B->b (12 / 20), C->c (4 / 12), every prediction
    used: AJI = 28 / 48 = 7/12; AJI+ pairs the same: 28 / 48.
    Pixels: |G| = 40, |P| = 36, |G & P| = 28: Dice = 56 / 76 = 14/19,
    Jaccard = 28 / 48 = 7/12. Dice2 = 2 * 28 / (28 + 32 + 16) = 14/19.
    """
    gt = np.zeros((10, 12), np.int32)
    gt_t = np.zeros_like(gt)
    pred = np.zeros_like(gt)
    pred_t = np.zeros_like(gt)
    for (r0, r1, c0, c1), i, t in zip(
        [(0, 4, 0, 4), (0, 4, 6, 10), (6, 8, 0, 4)], gt_ids, (1, 2, 1)):
        gt[r0:r1, c0:c1] = i
        gt_t[r0:r1, c0:c1] = t
    for (r0, r1, c0, c1), i, t in zip(
        [(0, 4, 0, 3), (0, 4, 7, 11), (6, 8, 2, 6)], pred_ids, (1, 1, 1)):
        pred[r0:r1, c0:c1] = i
        pred_t[r0:r1, c0:c1] = t
    return gt, gt_t, pred, pred_t


def _scores_of(stats):
    img = per_image_scores(stack_stats([stats]))
    return {k: v[0] for k, v in img.items()}


def test_hand_computed_pq_aji_dice():
    s = nuclei_image_stats(*three_by_three(), num_classes=2)
    np.testing.assert_array_equal(s['tp'], [2, 1, 0])
    np.testing.assert_array_equal(s['fp'], [1, 2, 0])
    np.testing.assert_array_equal(s['fn'], [1, 1, 1])
    np.testing.assert_allclose(s['iou_sum'], [1.35, 0.75, 0.0])
    sc = _scores_of(s)
    assert sc['bDQ'] == pytest.approx(2 / 3)
    assert sc['bSQ'] == pytest.approx(0.675)
    assert sc['bPQ'] == pytest.approx(0.45)
    np.testing.assert_allclose(sc['DQ'][1:], [0.4, 0.0])
    np.testing.assert_allclose(sc['SQ'][1:], [0.75, 0.0])
    np.testing.assert_allclose(sc['PQ'][1:], [0.3, 0.0])
    assert sc['mPQ'] == pytest.approx(0.15)
    assert sc['AJI'] == pytest.approx(7 / 12)
    assert sc['AJI+'] == pytest.approx(7 / 12)
    assert sc['Dice'] == pytest.approx(14 / 19)
    assert sc['Jaccard'] == pytest.approx(7 / 12)
    assert sc['Dice2'] == pytest.approx(14 / 19)


def test_non_contiguous_ids_give_the_same_stats():
    ref = nuclei_image_stats(*three_by_three(), num_classes=2)
    for gt_ids, pred_ids in [((70, 3, 1000), (2**20, 5, 99)),
                             ((2**31 - 1, 2**30, 7), (11, 2**31 - 2, 1))]:
        s = nuclei_image_stats(
            *three_by_three(gt_ids, pred_ids), num_classes=2)
        for key, value in ref.items():
            np.testing.assert_array_equal(s[key], value, err_msg=key)


def test_aji_differs_from_aji_plus_on_a_merge_and_iou_half_is_no_match():
    """GT D rows 0-1, cols 0-3 (8 px) and E rows 2-3, cols 0-5 (12 px);
    prediction d rows 0-3, cols 0-3 (16 px, covers D and part of E) and e
    rows 2-4, cols 4-5 (6 px).

    IoU(D, d) = 8 / 16 = 0.5 (not > 0.5: no PQ match);
    IoU(E, d) = 8 / (12 + 16 - 8) = 0.4; IoU(E, e) = 4 / (12 + 6 - 4) = 2/7.
    PQ: TP = 0, FP = 2, FN = 2 -> 0.
    AJI: D->d (8 / 16), E->d (8 / 20, as 0.4 > 2/7); e unused (+6):
    AJI = 16 / 42 = 8/21.
    AJI+: one-to-one pairing of maximal IoU sum is D-d, E-e (0.5 + 2/7 >
    0.4): AJI+ = (8 + 4) / (16 + 14) = 0.4.
    Dice2 = 2 (8 + 8 + 4) / (24 + 28 + 18) = 4/7;
    pixels |G| = 20, |P| = 22, |G & P| = 20: Dice = 40 / 42 = 20/21,
    Jaccard = 20 / 22 = 10/11.
    """
    gt = np.zeros((6, 7), np.int32)
    gt[0:2, 0:4] = 1
    gt[2:4, 0:6] = 2
    pred = np.zeros_like(gt)
    pred[0:4, 0:4] = 1
    pred[2:5, 4:6] = 2
    s = nuclei_image_stats(gt, None, pred, None, num_classes=0)
    assert s['tp'].tolist() == [0]
    assert s['fp'].tolist() == [2] and s['fn'].tolist() == [2]
    sc = _scores_of(s)
    assert sc['bPQ'] == 0.0
    assert sc['AJI'] == pytest.approx(8 / 21)
    assert sc['AJI+'] == pytest.approx(0.4)
    assert sc['Dice2'] == pytest.approx(4 / 7)
    assert sc['Dice'] == pytest.approx(20 / 21)
    assert sc['Jaccard'] == pytest.approx(10 / 11)
    assert 'mPQ' not in sc  # class-agnostic


def test_instance_type_is_pixel_majority_ignoring_background():
    inst = np.array([[1, 1, 1, 2, 2], [1, 1, 0, 3, 3]])
    types = np.array([[2, 2, 1, 0, 0], [2, 0, 0, 1, 3]])
    t = instance_types(compact_labels(inst), types, 3)
    # 1: votes {2: 3, 1: 1} -> 2; 2: only type 0 -> 0; 3: tie 1/3 -> 1
    np.testing.assert_array_equal(t, [2, 0, 1])
    with pytest.raises(ValueError, match='class 4 inside a nucleus'):
        instance_types(compact_labels(inst), types + (inst == 3), 3)


def test_edge_cases_never_raise_or_warn():
    empty = np.zeros((8, 8), np.int32)
    one = empty.copy()
    one[2:5, 2:5] = 9
    one_t = (one > 0).astype(np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        both = _scores_of(nuclei_image_stats(empty, empty, empty, empty, 2))
        no_pred = _scores_of(nuclei_image_stats(one, one_t, empty, empty, 2))
        no_gt = _scores_of(nuclei_image_stats(empty, empty, one, one_t, 2))
    # both empty: everything undefined
    for key in ('bPQ', 'bDQ', 'bSQ', 'mPQ', 'Dice', 'Jaccard', 'AJI',
                'AJI+', 'Dice2'):
        assert np.isnan(both[key]), key
    # empty prediction: zero where the GT has nuclei, NaN for absent class 2
    assert no_pred['bPQ'] == no_pred['bDQ'] == no_pred['bSQ'] == 0
    assert no_pred['PQ'][1] == 0 and np.isnan(no_pred['PQ'][2])
    assert no_pred['mPQ'] == 0
    for key in ('Dice', 'Jaccard', 'AJI', 'AJI+', 'Dice2'):
        assert no_pred[key] == 0, key
    # empty GT: PQ family undefined (image skipped), pixel scores are 0
    assert np.isnan(no_gt['bPQ']) and np.isnan(no_gt['mPQ'])
    assert np.isnan(no_gt['PQ'][1:]).all()
    for key in ('Dice', 'Jaccard', 'AJI', 'AJI+', 'Dice2'):
        assert no_gt[key] == 0, key


def test_central_window_counts_for_r2():
    """CoNIC counts only nuclei with a pixel in the central 224 x 224
    window (rows/cols 16..239 of a 256 tile)."""
    inst = np.zeros((256, 256), np.int32)
    types = np.zeros_like(inst)
    inst[0:10, 100:110], types[0:10, 100:110] = 1, 1  # border only
    inst[10:17, 0:20], types[10:17, 0:20] = 2, 1  # touches the window
    inst[100:110, 100:110], types[100:110, 100:110] = 3, 2
    inst[245:256, 245:256], types[245:256, 245:256] = 4, 2  # border only
    s = nuclei_image_stats(inst, types, inst, types, 2, count_crop=224)
    np.testing.assert_array_equal(s['count_gt'], [2, 1, 1])
    np.testing.assert_array_equal(s['count_pred'], [2, 1, 1])
    np.testing.assert_array_equal(s['n_gt'], [4, 2, 2])
    s = nuclei_image_stats(inst, types, inst, types, 2)
    np.testing.assert_array_equal(s['count_gt'], [4, 2, 2])


def test_centroid_pairing_radius_is_inclusive():
    gt = np.array([[10., 10.], [50., 50.]])
    pred = np.array([[22., 10.], [50., 63.]])  # 12 px and 13 px away
    np.testing.assert_array_equal(pair_centroids(gt, pred, 12), [[0, 0]])
    assert pair_centroids(gt, np.zeros((0, 2)), 12).shape == (0, 2)


def test_detection_scores_by_hand():
    """GT types (1, 1, 2, 2, 1), predictions (1, 2, 2, 1, -) paired 1:1 for
    the first four; one extra prediction of type 2; GT 5 missed.

    Pairs (gt, pred): (1,1), (1,2), (2,2), (2,1). TP = 4, FP = 1, FN = 1:
    F1 = 8 / 10, P = 4 / 5, R = 4 / 5, type accuracy = 2 / 4.
    Type 1: tp = 1, fp_t = 1 (2->1), fn_t = 1 (1->2), fp_d = 0, fn_d = 1:
    F1 = 2 / (2 + 2 + 2 + 0 + 1) = 2/7; P = 1 / (1 + 2) = 1/3;
    R = 1 / (1 + 2 + 1) = 1/4.
    Type 2: tp = 1, fp_t = 1, fn_t = 1, fp_d = 1, fn_d = 0:
    F1 = 2 / (2 + 2 + 2 + 1) = 2/7; P = 1 / 4; R = 1 / 3.
    """
    gt_xy = np.array([[0, 0], [20, 0], [40, 0], [60, 0], [80, 0]], float)
    pred_xy = np.array([[1, 0], [21, 0], [41, 0], [61, 0], [200, 200]],
                       float)
    counts = detection_counts(gt_xy, np.array([1, 1, 2, 2, 1]), pred_xy,
                              np.array([1, 2, 2, 1, 2]), 2, radius=6)
    np.testing.assert_array_equal(counts['det_pairs'],
                                  [[0, 0, 0], [0, 1, 1], [0, 1, 1]])
    np.testing.assert_array_equal(counts['det_fn'], [0, 1, 0])
    np.testing.assert_array_equal(counts['det_fp'], [0, 0, 1])
    sc = detection_scores(counts['det_pairs'], counts['det_fn'],
                          counts['det_fp'], ['A', 'B'])
    assert sc['F1_det'] == pytest.approx(0.8)
    assert sc['P_det'] == pytest.approx(0.8)
    assert sc['R_det'] == pytest.approx(0.8)
    assert sc['TypeAcc_det'] == pytest.approx(0.5)
    assert sc['F1_det.A'] == pytest.approx(2 / 7)
    assert sc['P_det.A'] == pytest.approx(1 / 3)
    assert sc['R_det.A'] == pytest.approx(1 / 4)
    assert sc['F1_det.B'] == pytest.approx(2 / 7)
    assert sc['P_det.B'] == pytest.approx(1 / 4)
    assert sc['R_det.B'] == pytest.approx(1 / 3)


def test_detection_from_maps_uses_instance_centroids():
    gt, gt_t, pred, pred_t = three_by_three()
    s = nuclei_image_stats(gt, gt_t, pred, pred_t, 2, detection_radius=1.5)
    # centroids (x, y): A (1.5, 1.5) a (1, 1.5); B (7.5, 1.5) b (8.5, 1.5);
    # C (1.5, 6.5) c (3.5, 6.5): A-a and B-b within 1.5, C-c 2 px apart.
    np.testing.assert_array_equal(s['det_pairs'],
                                  [[0, 0, 0], [0, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(s['det_fn'], [0, 1, 0])
    np.testing.assert_array_equal(s['det_fp'], [0, 1, 0])
    out = aggregate_nuclei_stats([s], 'image', ['A', 'B'])
    assert out['F1_det'] == pytest.approx(4 / 6)
