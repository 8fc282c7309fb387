# Copyright (c) mmpathseg contributors. All rights reserved.
import math
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

from mmpathseg.models.decode_heads import BottleneckAdapter
from mmpathseg.models.decode_heads.guide_layer import sinusoidal_positions
from mmpathseg.models.decode_heads.guide_up_blocks import (SubpixelUpsample,
                                                           UpBlock)
from mmpathseg.models.losses import SoftDiceLoss
from mmpathseg.registry import MODELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_text_models import TEXT_DIM, tiny_head  # noqa: E402


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpathseg')


def _feats(b=2, size=64):
    widths = (8, 16, 32, 64)
    return [
        torch.randn(b, c, size // s, size // s)
        for c, s in zip(widths, (4, 8, 16, 32))
    ]


def test_sinusoidal_positions_values():
    pe = sinusoidal_positions(3, 4)
    # p=1: sin(1), cos(1), sin(1/100), cos(1/100).
    torch.testing.assert_close(
        pe[1], torch.tensor([math.sin(1), math.cos(1), math.sin(0.01),
                             math.cos(0.01)]))
    torch.testing.assert_close(pe[0], torch.tensor([0., 1., 0., 1.]))
    assert sinusoidal_positions(5, 7).shape == (5, 7)


@pytest.mark.parametrize('moe', [False, True])
def test_guide_decoder_forward_backward(moe):
    head = MODELS.build(tiny_head(moe=moe))
    feats = _feats()
    text = torch.randn(2, 8, TEXT_DIM)
    out = head(feats, text, torch.ones(2, 8))
    assert out['logits'].shape == (2, 1, 64, 64)
    assert [f.shape for f in out['fused']] == [(2, 4, 64), (2, 16, 32),
                                               (2, 64, 16)]
    assert len(out['gates']) == (3 if moe else 0)
    out['logits'].sum().backward()
    assert head.guides['0'].text_projection is not None
    grads = [p.grad for p in head.guides['0'].parameters()]
    assert all(g is not None for g in grads)


def test_text_free_path_and_stage_subset():
    head = MODELS.build(tiny_head(moe=True, guide_stages=(0, )))
    assert list(head.guides) == ['0']
    feats = _feats()
    out = head(feats, None)
    assert out['fused'] == [] and out['gates'] == []
    assert out['logits'].shape == (2, 1, 64, 64)
    # Text changes the output only through the guide stages.
    a = head(feats, torch.randn(2, 8, TEXT_DIM))['logits']
    b = head(feats, torch.randn(2, 8, TEXT_DIM))['logits']
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match='guide_stages'):
        MODELS.build(tiny_head(guide_stages=(3, )))


def test_head_losses():
    head = MODELS.build(tiny_head(moe=True))
    out = head(_feats(), torch.randn(2, 8, TEXT_DIM))
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 2, (1, 64, 64)))
        samples.append(s)
    losses = head.loss_by_feat(out, samples)
    assert set(losses) == {'loss_dice', 'loss_ce', 'loss_div'}
    assert -math.log(4) <= losses['loss_div'].item() <= 0
    assert 'loss_div' not in head.loss_by_feat(out, samples,
                                               with_diversity=False)


def test_soft_dice_hand_computed():
    # One image, logits +-inf: p = (1, 1, 0, 0), g = (1, 0, 1, 0).
    logits = torch.tensor([[[[50., 50.], [-50., -50.]]]])
    target = torch.tensor([[[1, 0], [1, 0]]])
    dice = (2 * 1 + 1e-5) / (2 + 2 + 1e-5)
    assert SoftDiceLoss()(logits, target).item() == pytest.approx(
        1 - dice, abs=1e-6)
    # Ignored pixels drop out: only (0,0) and (1,0) count -> p (1, 0), g (1,
    # 1) -> dice 2/3.
    target = torch.tensor([[[1, 255], [1, 255]]])
    assert SoftDiceLoss()(logits, target).item() == pytest.approx(
        1 - (2 + 1e-5) / (3 + 1e-5), abs=1e-6)


def test_up_blocks_and_adapter():
    up = UpBlock(16, 8)
    assert up(torch.randn(1, 16, 4, 4), torch.randn(1, 8, 9, 9)).shape == \
        (1, 8, 9, 9)
    sub = SubpixelUpsample(8, 3, scale=4)
    assert sub(torch.randn(1, 8, 5, 6)).shape == (1, 3, 20, 24)
    adapter = BottleneckAdapter(16, ratio=0.25)
    x = torch.randn(2, 5, 16)
    torch.testing.assert_close(adapter(x), x)  # identity at init
    assert adapter.down.out_features == 4


def test_adapter_variants_and_distill_distances():
    from mmpathseg.models.losses import FeatureDistillLoss
    linear = BottleneckAdapter(8)
    assert linear.norm is None and isinstance(linear.act, torch.nn.Identity)
    houlsby = BottleneckAdapter(8, with_norm=True, act_cfg=dict(type='GELU'))
    assert houlsby.norm is not None
    s = torch.zeros(2, 3, 4)
    t = torch.ones(2, 3, 4)
    t[1] *= 2
    # mse: mean of 1 and 4; l2: mean of sqrt(12) and sqrt(48).
    assert FeatureDistillLoss()(s, t).item() == pytest.approx(2.5)
    assert FeatureDistillLoss(distance='l2')(s, t).item() == pytest.approx(
        (12**0.5 + 48**0.5) / 2)
    assert FeatureDistillLoss()([s, s], [t, s]).item() == pytest.approx(1.25)
    with pytest.raises(ValueError, match='distance'):
        FeatureDistillLoss(distance='l1')
