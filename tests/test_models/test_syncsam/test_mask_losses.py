# Copyright (c) mmpathseg contributors. All rights reserved.
"""Mask losses on hand-computed cases."""
import math

import pytest
import torch

from mmpathseg.models.losses import (MaskBCELoss, MaskDiceLoss,
                                     MaskFocalLoss, MaskIoUMSELoss)


def _logit(p):
    return math.log(p / (1 - p))


def test_dice_batch_pooling_vs_per_mask():
    # Mask 0: p = (.8, .2) on target (1, 0); mask 1: p = (.5, .5) on (0, 0).
    logits = torch.tensor([[_logit(.8), _logit(.2)],
                           [0., 0.]]).reshape(2, 1, 1, 2)
    target = torch.tensor([[1., 0.], [0., 0.]]).reshape(2, 1, 1, 2)
    # Pooled: inter .8, |P| 2.0, |G| 1 -> 1 - (1.6 + 1) / (3 + 1) = .35
    pooled = MaskDiceLoss(smooth=1.0)(logits, target)
    assert pooled.item() == pytest.approx(0.35, abs=1e-6)
    # Per mask: 1 - 2.6/3 = 0.13333 and 1 - 1/2 = 0.5 -> mean 0.316667
    per = MaskDiceLoss(reduction='mask', smooth=1.0)(logits, target)
    assert per.item() == pytest.approx((2 / 15 + 0.5) / 2, abs=1e-6)
    # Squared (MONAI squared_pred): 1 - (1.6+1)/(.64+.04+1+1) = 0.029851
    sq = MaskDiceLoss(reduction='mask', squared=True, smooth=1.0)(
        logits[:1], target[:1])
    assert sq.item() == pytest.approx(1 - 2.6 / 2.68, abs=1e-6)
    assert MaskDiceLoss(loss_weight=20.)(logits, target).item() == \
        pytest.approx(7.0, abs=1e-5)


def test_focal_by_hand():
    logits = torch.tensor([_logit(.8), _logit(.2)]).reshape(1, 1, 1, 2)
    target = torch.tensor([1., 1.]).reshape(1, 1, 1, 2)
    # positives: -.25 (1-p)^2 log p
    expect = (0.25 * 0.2**2 * -math.log(.8) +
              0.25 * 0.8**2 * -math.log(.2)) / 2
    assert MaskFocalLoss()(logits, target).item() == pytest.approx(
        expect, rel=1e-5)
    target = torch.zeros_like(target)
    expect = (0.75 * 0.8**2 * -math.log(.2) + 0.75 * 0.2**2 *
              -math.log(.8)) / 2
    assert MaskFocalLoss()(logits, target).item() == pytest.approx(
        expect, rel=1e-5)


def test_bce_and_iou_mse():
    logits = torch.tensor([_logit(.8), _logit(.2)]).reshape(1, 1, 1, 2)
    target = torch.tensor([1., 0.]).reshape(1, 1, 1, 2)
    assert MaskBCELoss()(logits, target).item() == pytest.approx(
        -math.log(.8), rel=1e-5)
    # soft IoU = .8 / (1.0 + 1 - .8) = 2/3; predicted .5
    iou = MaskIoUMSELoss()(logits, target, iou_pred=torch.tensor([[.5]]))
    assert iou.item() == pytest.approx((2 / 3 - .5)**2, rel=1e-4)
    with pytest.raises(ValueError, match='IoU head'):
        MaskIoUMSELoss()(logits, target)
