# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellViT/CellVTA losses on tiny tensors with values worked out by hand."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmpathseg.models.losses import (FocalTverskyLoss, HoVerCrossEntropyLoss,
                                     HoVerDiceLoss, HVMSELoss,
                                     MCFocalTverskyLoss, MSGELoss)
from mmpathseg.models.losses.msge_loss import hv_gradient_kernels

LN2, LN3 = math.log(2.), math.log(3.)


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    """On a shared 2-core machine, 2 intra-op threads make these tiny
    convolutions many times slower than 1 (spin-waiting under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _two_pixels():
    """Two pixels, both predicted right with probability 0.75."""
    logits = torch.tensor([[[[0., LN3]], [[LN3, 0.]]]])  # (1, 2, 1, 2)
    target = torch.tensor([[[1, 0]]])  # (1, 1, 2)
    return logits, target


def _three_classes():
    """Two pixels with probabilities (0.5, 0.25, 0.25); targets 0 and 1."""
    logits = torch.tensor([LN2, 0., 0.]).view(1, 3, 1, 1).expand(1, 3, 1,
                                                                 2).clone()
    target = torch.tensor([[[0, 1]]])
    return logits, target


def test_focal_tversky_single_softmax_by_hand():
    logits, target = _two_pixels()
    loss = FocalTverskyLoss(double_softmax=False)(logits, target)
    # TP = 1.5, FP = FN = 0.5 -> T = 1.5 / (1.5 + 0.35 + 0.15) = 0.75.
    assert loss.item() == pytest.approx(0.25**(4 / 3), rel=1e-5)


def test_focal_tversky_double_softmax_by_hand():
    logits, target = _two_pixels()
    loss = FocalTverskyLoss()(logits, target)  # reference default
    # The second softmax turns (0.25, 0.75) into (1 - q, q), q = sigmoid(.5);
    # by symmetry TP = 2q, FP = FN = 2(1 - q), so T = q.
    q = 1 / (1 + math.exp(-0.5))
    assert loss.item() == pytest.approx((1 - q)**(4 / 3), rel=1e-5)
    # One-hot targets give the same value; loss_weight multiplies.
    one_hot = F.one_hot(target, 2).permute(0, 3, 1, 2).float()
    assert FocalTverskyLoss(loss_weight=2.)(logits, one_hot).item() == \
        pytest.approx(2 * (1 - q)**(4 / 3), rel=1e-5)


def test_mc_focal_tversky_by_hand():
    logits, target = _three_classes()
    s = 1e-6
    t0 = (0.5 + s) / (0.5 + 0.7 * 0.5 + 0.3 * 0.5 + s)
    t1 = (0.25 + s) / (0.25 + 0.7 * 0.75 + 0.3 * 0.25 + s)
    t2 = s / (0.3 * 0.5 + s)
    per_class = [(1 - t)**(4 / 3) for t in (t0, t1, t2)]
    loss = MCFocalTverskyLoss(double_softmax=False)(logits, target)
    assert loss.item() == pytest.approx(sum(per_class), rel=1e-5)
    weighted = MCFocalTverskyLoss(
        double_softmax=False, class_weight=[1., 2., 0.])(logits, target)
    assert weighted.item() == pytest.approx(
        per_class[0] + 2 * per_class[1], rel=1e-5)
    with pytest.raises(ValueError, match='class_weight'):
        MCFocalTverskyLoss(class_weight=[1., 1.])(logits, target)


def test_hover_dice_by_hand():
    logits, target = _three_classes()
    s = 1e-3
    expected = (1 - (1 + s) / (2 + s)) + (1 - (0.5 + s) /
                                          (1.5 + s)) + (1 - s / (0.5 + s))
    assert HoVerDiceLoss()(logits, target).item() == pytest.approx(
        expected, rel=1e-5)
    # Perfect prediction: every class present scores 0, an absent class
    # with no prediction scores 0 as well (smooth / smooth).
    perfect = F.one_hot(target, 3).permute(0, 3, 1, 2).float() * 40
    assert HoVerDiceLoss()(perfect, target).item() == pytest.approx(
        0, abs=1e-6)


def test_hover_cross_entropy_by_hand_and_clamp():
    logits, target = _three_classes()
    expected = -(math.log(0.5) + math.log(0.25)) / 2
    assert HoVerCrossEntropyLoss()(logits, target).item() == pytest.approx(
        expected, rel=1e-6)
    # Without the clamp it is mmseg's / torch's cross-entropy.
    rand = torch.randn(2, 4, 5, 6)
    labels = torch.randint(0, 4, (2, 5, 6))
    assert HoVerCrossEntropyLoss(eps=None)(rand, labels).item() == \
        pytest.approx(F.cross_entropy(rand, labels).item(), rel=1e-6)
    # A pixel whose true class has p < 1e-7 costs -log(1e-7) and gets no
    # gradient (reference behaviour); the plain loss pushes it.
    wrong = torch.tensor([[[[0.]], [[-30.]]]], requires_grad=True)
    label = torch.tensor([[[1]]])
    loss = HoVerCrossEntropyLoss()(wrong, label)
    assert loss.item() == pytest.approx(-math.log(1e-7), rel=1e-5)
    loss.backward()
    assert wrong.grad.abs().max().item() == 0
    plain = HoVerCrossEntropyLoss(eps=None)(wrong, label)
    assert plain.item() == pytest.approx(30., rel=1e-4)


def test_bad_targets_raise():
    logits, target = _three_classes()
    with pytest.raises(ValueError, match=r'\[0, 3\)'):
        HoVerDiceLoss()(logits, target + 255)
    with pytest.raises(ValueError, match='matches neither'):
        HoVerDiceLoss()(logits, target[..., :1])


def test_hv_mse_by_hand():
    pred = torch.zeros(1, 2, 2, 2)
    target = torch.tensor([[[[1., -1.], [0., 0.]], [[0.5, 0.], [0., 0.]]]])
    assert HVMSELoss(loss_weight=2.5)(pred, target).item() == \
        pytest.approx(2.5 * (1 + 1 + 0.25) / 8)


def test_msge_kernels():
    kh_ij, kv_ij = hv_gradient_kernels(5, 'ij')
    kh_xy, kv_xy = hv_gradient_kernels(5, 'xy')
    # 'ij': the "horizontal" kernel varies along rows (dy); 'xy' along
    # columns (dx).
    assert kh_ij[0, 2] == pytest.approx(-0.5) and kh_ij[2, 0] == 0
    assert kh_xy[2, 0] == pytest.approx(-0.5) and kh_xy[0, 2] == 0
    assert torch.equal(kh_ij, kh_xy.T) and torch.equal(kv_ij, kh_xy)
    assert kh_ij[2, 2] == 0 and kh_ij[1, 1] == pytest.approx(-0.5)


@pytest.mark.parametrize('indexing', ['ij', 'xy'])
def test_msge_by_hand(indexing):
    """An x-ramp target (x map = a * column), zero prediction, nucleus mask
    on the 5x5 centre of a 9x9 map (so no kernel reaches the padding).

    Along the differentiated axis the 5x5 kernel gives sum(d^2 / |d|^2) over
    the 24 offsets = 12 per unit slope; across it, 0. So with ``'xy'`` the x
    map has gradient 12a inside the mask and the loss is (12a)^2 / 2
    (two mask channels); with ``'ij'`` the x map is differentiated along y
    and the loss is 0.
    """
    a = 0.1
    target = torch.zeros(1, 2, 9, 9)
    target[0, 0] = a * torch.arange(9.).view(1, 9)
    pred = torch.zeros_like(target)
    mask = torch.zeros(1, 9, 9, dtype=torch.long)
    mask[0, 2:7, 2:7] = 1
    loss = MSGELoss(kernel_indexing=indexing)(pred, target, fg_mask=mask)
    expected = (12 * a)**2 / 2 if indexing == 'xy' else 0.
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    # The y map behaves the mirror way.
    target_y = torch.zeros(1, 2, 9, 9)
    target_y[0, 1] = a * torch.arange(9.).view(9, 1)
    loss_y = MSGELoss(kernel_indexing=indexing)(pred, target_y, fg_mask=mask)
    assert loss_y.item() == pytest.approx(expected, abs=1e-6)


def test_msge_needs_mask_and_empty_mask_is_zero():
    pred = torch.randn(1, 2, 8, 8)
    with pytest.raises(ValueError, match='fg_mask'):
        MSGELoss()(pred, pred.clone())
    with pytest.raises(ValueError, match="'ij'"):
        MSGELoss(kernel_indexing='yx')
    empty = torch.zeros(1, 8, 8)
    assert MSGELoss()(pred, torch.zeros_like(pred),
                      fg_mask=empty).item() == 0


def test_losses_are_registered():
    from mmengine.registry import init_default_scope

    from mmpathseg.registry import MODELS
    init_default_scope('mmpathseg')
    for name in ('FocalTverskyLoss', 'MCFocalTverskyLoss', 'HoVerDiceLoss',
                 'HoVerCrossEntropyLoss', 'HVMSELoss', 'MSGELoss'):
        loss = MODELS.build(dict(type=name))
        assert loss.loss_name.startswith('loss_')
