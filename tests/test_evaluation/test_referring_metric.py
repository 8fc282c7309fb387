# Copyright (c) mmpathseg contributors. All rights reserved.
"""gIoU / cIoU / N-Acc / T-Acc on cases worked out by hand from GSVA's and
ReLA's definitions (see the module docstring of referring_metric.py)."""
import math

import numpy as np
import pytest
import torch

from mmpathseg.evaluation.metrics import (ReferringMetric,
                                          aggregate_referring_stats,
                                          referring_target_stats)


def _mask(*boxes, size=20):
    m = np.zeros((size, size), bool)
    for y0, y1, x0, x1 in boxes:
        m[y0:y1, x0:x1] = True
    return m


def _four_targets():
    """1: GT 100 px, pred 98 px, I=80 U=118, accepted.
    2: GT empty, rejected (correct).
    3: GT empty, accepted with a 30-px mask (wrongly accepted).
    4: GT 50 px, rejected (wrong) but its mask has I=24, U=58."""
    gt = np.stack([
        _mask((0, 10, 0, 10)),
        _mask(),
        _mask(),
        _mask((15, 20, 0, 10)),
    ])
    pred = np.stack([
        _mask((0, 8, 0, 10), (10, 11, 0, 18)),
        _mask(),
        _mask((0, 3, 10, 20)),
        _mask((15, 17, 0, 10), (17, 18, 0, 4), (12, 13, 0, 8)),
    ])
    empty = np.array([False, True, True, False])
    rejected = np.array([False, True, False, True])
    return gt, pred, empty, rejected


def test_target_stats_by_hand():
    stats = referring_target_stats(*_four_targets())
    assert stats.tolist() == [[80, 118, 0, 0], [0, 0, 1, 1], [0, 30, 1, 0],
                              [24, 58, 0, 1]]


def test_gsva_worked_example():
    m = aggregate_referring_stats(referring_target_stats(*_four_targets()))
    assert m['gIoU'] == pytest.approx(100 * (80 / 118 + 1 + 0 + 24 / 58) / 4)
    assert m['gIoU'] == pytest.approx(52.2940, abs=1e-3)
    assert m['cIoU'] == pytest.approx(100 * 104 / 206)  # 30 px FN union
    assert m['N-Acc'] == 50.0 and m['T-Acc'] == 50.0
    refzom = aggregate_referring_stats(
        referring_target_stats(*_four_targets()), add_fn_union=False)
    assert refzom['cIoU'] == pytest.approx(100 * 104 / 176)


def test_rela_zeroes_wrongly_rejected_targets():
    m = aggregate_referring_stats(
        referring_target_stats(*_four_targets()), mode='rela')
    assert m['gIoU'] == pytest.approx(100 * (80 / 118 + 1) / 4)
    assert m['cIoU'] == pytest.approx(100 * 80 / 206)


def test_all_empty_targets():
    gt = np.zeros((3, 20, 20), bool)
    pred = np.stack([_mask(), _mask(), _mask((0, 2, 0, 5))])
    stats = referring_target_stats(gt, pred, [True] * 3,
                                   [True, True, False])
    m = aggregate_referring_stats(stats)
    assert m['gIoU'] == pytest.approx(200 / 3)
    assert m['N-Acc'] == pytest.approx(200 / 3)
    assert m['cIoU'] == 0.0  # union = the 10 wrongly predicted pixels
    assert math.isnan(m['T-Acc'])  # no real target: not 0, not 100
    m = aggregate_referring_stats(stats, add_fn_union=False)
    assert math.isnan(m['cIoU'])
    # every empty target rejected: perfect gIoU and N-Acc
    m = aggregate_referring_stats(
        referring_target_stats(gt, pred, [True] * 3, [True] * 3))
    assert m['gIoU'] == 100.0 and m['N-Acc'] == 100.0


def test_wrongly_accepted_empty_target_scores_zero_even_if_mask_empty():
    gt = np.zeros((1, 4, 4), bool)
    stats = referring_target_stats(gt, gt, [True], [False])
    m = aggregate_referring_stats(stats)
    assert m['gIoU'] == 0.0 and m['N-Acc'] == 0.0


def test_wrongly_rejected_real_target_keeps_its_mask_in_gsva():
    gt = _mask((0, 4, 0, 4))[None]
    stats = referring_target_stats(gt, gt, [False], [True])
    assert aggregate_referring_stats(stats)['gIoU'] == pytest.approx(100.0)
    assert aggregate_referring_stats(stats)['T-Acc'] == 0.0
    assert aggregate_referring_stats(stats, mode='rela')['gIoU'] == 0.0


def test_ignore_pixels_are_left_out():
    gt = _mask((0, 2, 0, 2), size=4)[None]
    pred = _mask((0, 2, 0, 4), size=4)[None]
    ignore = _mask((0, 4, 2, 4), size=4)
    stats = referring_target_stats(gt, pred, [False], [False], ignore)
    assert stats[0, :2].tolist() == [4, 4]


def test_empty_flag_must_match_mask():
    gt = _mask((0, 1, 0, 1), size=4)[None]
    with pytest.raises(ValueError, match='flagged empty'):
        referring_target_stats(gt, gt, [True], [False])


def test_metric_process_groups_and_lisa_rule():
    gt, pred, empty, rejected = _four_targets()
    metric = ReferringMetric(group_by='magnification')
    samples = [
        dict(gt_masks=torch.from_numpy(gt[:2]),
             pred_masks=torch.from_numpy(pred[:2]),
             gt_empty=torch.from_numpy(empty[:2]),
             pred_rejected=torch.from_numpy(rejected[:2]),
             magnification='20x'),
        dict(gt_masks=torch.from_numpy(gt[2:]),
             pred_masks=torch.from_numpy(pred[2:]),
             gt_empty=torch.from_numpy(empty[2:]),
             pred_rejected=torch.from_numpy(rejected[2:]),
             magnification='40x'),
    ]
    metric.process({}, samples)
    res = metric.compute_metrics(metric.results)
    assert res['gIoU'] == pytest.approx(52.2940, abs=1e-3)
    assert res['20x/gIoU'] == pytest.approx(100 * (80 / 118 + 1) / 2)
    assert res['40x/N-Acc'] == 0.0 and res['40x/T-Acc'] == 0.0
    # LISA rule: an empty predicted mask on an empty target is a rejection
    lisa = ReferringMetric(empty_mask_is_rejection=True)
    no_rej = [dict(s, pred_rejected=torch.zeros(2, dtype=torch.bool))
              for s in samples]
    lisa.process({}, no_rej)
    res = lisa.compute_metrics(lisa.results)
    assert res['N-Acc'] == 50.0  # target 2 (empty mask) yes, 3 (30 px) no
    with pytest.raises(KeyError, match='pred_rejected'):
        ReferringMetric().process({}, [dict(gt_masks=1, gt_empty=1,
                                            pred_masks=1)])
    with pytest.raises(ValueError, match='mode'):
        ReferringMetric(mode='refcoco')
