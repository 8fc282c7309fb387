# Copyright (c) mmpathseg contributors. All rights reserved.
"""Gate temperature and diversity loss against hand-computed values."""
import math

import pytest
import torch

from mmpathseg.models.losses import GateDiversityLoss, gate_diversity
from mmpathseg.models.moe import TemperatureGate, TextMoE


def _gate_with_logits(logits, tau, learnable=True):
    """A gate whose linear layer outputs ``logits`` for the input e_0."""
    gate = TemperatureGate(2, len(logits), init_temperature=tau,
                           learnable_temperature=learnable)
    with torch.no_grad():
        gate.fc.weight.zero_()
        gate.fc.bias.copy_(torch.tensor(logits))
    return gate


def test_gate_sums_to_one_and_temperature():
    x = torch.zeros(1, 2)
    # logits (ln 1, ln 2, ln 4): at tau 1 the gate is (1, 2, 4) / 7.
    logits = [0.0, math.log(2), math.log(4)]
    g1 = _gate_with_logits(logits, 1.0)(x)
    torch.testing.assert_close(g1, torch.tensor([[1 / 7, 2 / 7, 4 / 7]]))
    # tau 2 halves the logits: weights proportional to (1, sqrt2, 2).
    g2 = _gate_with_logits(logits, 2.0)(x)
    s = 1 + math.sqrt(2) + 2
    torch.testing.assert_close(
        g2, torch.tensor([[1 / s, math.sqrt(2) / s, 2 / s]]))
    # tau 0.5 doubles them: proportional to (1, 4, 16).
    g3 = _gate_with_logits(logits, 0.5)(x)
    torch.testing.assert_close(g3, torch.tensor([[1 / 21, 4 / 21, 16 / 21]]))
    for g in (g1, g2, g3):
        torch.testing.assert_close(g.sum(-1), torch.ones(1))
    # Lower temperature -> sharper gate (lower entropy).
    ent = [-(g * g.log()).sum().item() for g in (g3, g1, g2)]
    assert ent[0] < ent[1] < ent[2]


def test_temperature_is_learnable_and_positive():
    gate = _gate_with_logits([0.0, 1.0], 1.0)
    assert isinstance(gate.log_tau, torch.nn.Parameter)
    gate(torch.zeros(4, 2))[:, 1].sum().backward()
    assert gate.log_tau.grad is not None and gate.log_tau.grad.abs() > 0
    with torch.no_grad():
        gate.log_tau.fill_(-50.0)
    assert gate.temperature > 0
    fixed = _gate_with_logits([0.0, 1.0], 1.0, learnable=False)
    assert 'log_tau' not in dict(fixed.named_parameters())
    assert fixed.temperature.item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match='init_temperature'):
        TemperatureGate(2, 2, init_temperature=0)


def test_diversity_hand_computed():
    # Two samples, gates (1, 0) and (0.5, 0.5):
    # E[H] = (0 + ln 2) / 2; mean gate (0.75, 0.25);
    # H(mean) = -(0.75 ln 0.75 + 0.25 ln 0.25).
    gates = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    expected = math.log(2) / 2 + (0.75 * math.log(0.75) +
                                  0.25 * math.log(0.25))
    assert gate_diversity(gates).item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize('n', [2, 4, 8])
def test_diversity_extremes_and_bounds(n):
    # Identical gates: 0.
    same = torch.softmax(torch.randn(1, n), -1).repeat(5, 1)
    assert gate_diversity(same).item() == pytest.approx(0.0, abs=1e-6)
    # One-hot gates using every expert equally: -log n.
    onehot = torch.eye(n).repeat(3, 1)
    assert gate_diversity(onehot).item() == pytest.approx(
        -math.log(n), abs=1e-5)
    # Random gates: inside [-log n, 0].
    torch.manual_seed(0)
    for _ in range(20):
        g = torch.softmax(3 * torch.randn(7, n), -1)
        value = gate_diversity(g).item()
        assert -math.log(n) - 1e-6 <= value <= 1e-6


def test_diversity_loss_averages_stages_and_weights():
    a = torch.eye(4)
    b = torch.full((4, 4), 0.25)
    loss = GateDiversityLoss(loss_weight=2.0)
    assert loss([a, b]).item() == pytest.approx(2.0 * (-math.log(4)) / 2,
                                                abs=1e-5)
    assert loss.loss_name == 'loss_div'
    with pytest.raises(ValueError, match='B, E'):
        gate_diversity(torch.ones(4))


def test_text_moe_shapes_and_gate_inputs():
    moe = TextMoE(32, 16, text_len=8, out_len=4, num_experts=3)
    text, visual = torch.randn(2, 8, 32), torch.randn(2, 10, 16)
    mixed, gates = moe(text, visual, torch.ones(2, 8))
    assert mixed.shape == (2, 4, 16) and gates.shape == (2, 3)
    torch.testing.assert_close(gates.sum(-1), torch.ones(2))
    assert (mixed >= 0).all()  # ReLU experts, convex mix
    assert moe.gate.fc.in_features == 32 + 16
    # Hand check of the mixture: with a one-hot gate the output is expert 1.
    with torch.no_grad():
        moe.gate.fc.weight.zero_()
        moe.gate.fc.bias.copy_(torch.tensor([-1e4, 1e4, -1e4]))
    mixed, _ = moe(text, visual)
    torch.testing.assert_close(mixed, moe.experts[1](text))
    # "w/o f_v": the gate sees the pooled text only.
    text_only = TextMoE(32, 16, 8, 4, num_experts=3, use_visual=False)
    assert text_only.gate.fc.in_features == 32
    # The pooled text honours the mask: padding tokens do not move it.
    text2 = text.clone()
    text2[:, 5:] = 100.0
    mask = torch.zeros(2, 8)
    mask[:, :5] = 1
    _, g1 = text_only(text, visual, mask)
    from mmpathseg.models.moe.text_experts import masked_mean
    torch.testing.assert_close(
        masked_mean(text, mask), masked_mean(text2, mask))
    assert g1.shape == (2, 3)
