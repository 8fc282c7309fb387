# Copyright (c) mmpathseg contributors. All rights reserved.
"""PromptDiceMetric on hand-computed cases."""
import numpy as np
import pytest
import torch

from mmpathseg.evaluation.metrics import PromptDiceMetric, mask_dice


def _masks(*rects, shape=(4, 5)):
    out = np.zeros((len(rects), ) + shape, bool)
    for k, rect in enumerate(rects):
        if rect is not None:
            y0, y1, x0, x1 = rect
            out[k, y0:y1, x0:x1] = True
    return out


def test_mask_dice_by_hand():
    gt = _masks((0, 2, 0, 2), (0, 4, 0, 5), None, None)
    pred = _masks((0, 2, 1, 3), None, None, (0, 1, 0, 1))
    # 2*2/(4+4) = .5; 0/(0+20) ~ 0; empty-empty 1; 0/(1+0) ~ 0
    np.testing.assert_allclose(mask_dice(pred, gt), [.5, 0, 1, 0],
                               atol=1e-6)


def _sample(gt, preds, dataset='A', img='x.png'):
    sample = dict(ori_gt_masks=torch.from_numpy(gt), img_path=img,
                  dataset_name=dataset)
    for mode, pred in preds.items():
        sample[f'pred_masks_{mode}'] = torch.from_numpy(pred)
    return sample


def test_mask_and_image_aggregation_and_missing_modes():
    gt1 = _masks((0, 2, 0, 2), (2, 4, 0, 5))
    gt2 = _masks((0, 4, 0, 5))
    # image 1: dice .5 and 1 ; image 2: dice 1 (box); 1pt only on image 1
    s1 = _sample(gt1, dict(box=_masks((0, 2, 1, 3), (2, 4, 0, 5)),
                           **{'1pt': gt1}), 'A', 'a.png')
    s2 = _sample(gt2, dict(box=gt2), 'B', 'b.png')
    metric = PromptDiceMetric(dataset_key='dataset_name')
    metric.process({}, [s1, s2])
    out = metric.compute_metrics(metric.results)
    assert out['DSC.box'] == pytest.approx((0.5 + 1 + 1) / 3 * 100)
    assert out['DSC.1pt'] == pytest.approx(100)
    assert 'DSC.5pt' not in out  # never predicted (e.g. MedSAM): '-'
    assert out['DSC.box/A'] == pytest.approx(75)
    assert out['DSC.box/B'] == pytest.approx(100)
    image = PromptDiceMetric(aggregation='image')
    image.process({}, [s1, s2])
    assert image.compute_metrics(image.results)['DSC.box'] == \
        pytest.approx((0.75 + 1) / 2 * 100)


def test_errors_name_the_fix():
    metric = PromptDiceMetric()
    with pytest.raises(KeyError, match='keep_ori=True'):
        metric.process({}, [dict(pred_masks_box=torch.zeros(1, 2, 2))])
    gt = _masks((0, 1, 0, 1))
    with pytest.raises(ValueError, match='original size'):
        metric.process({}, [_sample(gt, dict(box=np.zeros((1, 2, 2),
                                                          bool)))])
    with pytest.raises(ValueError, match='aggregation'):
        PromptDiceMetric(aggregation='dataset')
