# Copyright (c) mmpathseg contributors. All rights reserved.
import pytest
import torch

from mmpathseg.evaluation.metrics import DatasetDiceMetric


def _sample(pred, gt):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.tensor(gt)[None]))


def _run(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_hand_computed_pooled_and_per_image():
    # Image 1: tp 2, fp 1, fn 0 (4 pixels, tn 1).
    a = _sample([[1, 1], [1, 0]], [[1, 1], [0, 0]])
    # Image 2: tp 1, fp 0, fn 3 (tn 0).
    b = _sample([[1, 0], [0, 0]], [[1, 1], [1, 1]])
    out = _run(DatasetDiceMetric(per_image=True), [a, b])
    # Pooled: tp 3, fp 1, fn 3 -> Dice 6/10, IoU 3/7, Acc (3+1)/8.
    assert out['Dice'] == pytest.approx(60.0)
    assert out['IoU'] == pytest.approx(100 * 3 / 7)
    assert out['Acc'] == pytest.approx(50.0)
    # Per image: Dice 4/5 and 2/5 -> 60; IoU 2/3 and 1/4 -> 11/24.
    assert out['Dice_image'] == pytest.approx(60.0)
    assert out['IoU_image'] == pytest.approx(100 * 11 / 24)
    # Pooled Dice equals the per-image mean here by construction, while the
    # IoUs differ: the conventions are not interchangeable.
    assert out['IoU'] != pytest.approx(out['IoU_image'])


def test_pooled_scores_satisfy_iou_dice_identity():
    torch.manual_seed(0)
    samples = [
        _sample(torch.randint(0, 2, (16, 16)).tolist(),
                torch.randint(0, 2, (16, 16)).tolist()) for _ in range(5)
    ]
    out = _run(DatasetDiceMetric(per_image=True), samples)
    d = out['Dice'] / 100
    assert out['IoU'] / 100 == pytest.approx(d / (2 - d))
    # Per-image means do not satisfy it in general (LViT's numbers).
    di = out['Dice_image'] / 100
    assert out['IoU_image'] / 100 != pytest.approx(di / (2 - di), abs=1e-4)
    # The published pairs: MLMoE QaTa 91.19 -> 83.81, MosMed 77.98 -> 63.90.
    for dice, iou in [(91.19, 83.81), (77.98, 63.90), (87.66, 78.04)]:
        assert 100 * (dice / 100) / (2 - dice / 100) == pytest.approx(
            iou, abs=0.015)


def test_ignore_and_empty_images():
    # The ignored pixel (255) counts nowhere.
    a = _sample([[1, 1]], [[1, 255]])
    empty = _sample([[0, 0]], [[0, 0]])
    out = _run(DatasetDiceMetric(per_image=True), [a, empty])
    assert out['Dice'] == pytest.approx(100.0)
    assert out['Acc'] == pytest.approx(100.0)
    # The empty image scores empty_score per image.
    assert out['Dice_image'] == pytest.approx(100.0)
    out = _run(DatasetDiceMetric(per_image=True, empty_score=0.0),
               [a, empty])
    assert out['Dice_image'] == pytest.approx(50.0)


def test_shape_mismatch_and_missing_prediction():
    metric = DatasetDiceMetric()
    with pytest.raises(ValueError, match='output_shape'):
        metric.process({}, [_sample([[1, 0]], [[1, 0, 0]])])
    with pytest.raises(KeyError, match='pred_sem_seg'):
        metric.process({}, [dict(gt_sem_seg=dict(data=torch.zeros(1, 2)))])
