# Copyright (c) mmpathseg contributors. All rights reserved.
"""Adaptive Expert Mixture: top-k renormalisation, the gate, the weighted
sum of expert masks and where gradients go."""
import pytest
import torch

from mmpathseg.models.moe import (AdaptiveExpertMixture, AEMGate,
                                  top_k_renormalise)

EXPERT = dict(type='SAMExpertDecoder', transformer_dim=16, depth=1,
              mlp_dim=32, num_heads=2, iou_head_hidden_dim=16)


def test_top_k_renormalise_by_hand():
    probs = torch.tensor([[0.1, 0.4, 0.2, 0.3], [0.5, 0.1, 0.3, 0.1]])
    w = top_k_renormalise(probs, 2)
    expected = torch.tensor([[0, 0.4 / 0.7, 0, 0.3 / 0.7],
                             [0.5 / 0.8, 0, 0.3 / 0.8, 0]])
    assert torch.allclose(w, expected)
    assert ((w > 0).sum(1) == 2).all()
    assert torch.allclose(top_k_renormalise(probs, 4), probs / probs.sum(1,
                                                                         True))
    with pytest.raises(ValueError, match='top_k'):
        top_k_renormalise(probs, 5)


@pytest.mark.parametrize('k', [1, 2, 3])
def test_gate_keeps_exactly_k(k):
    torch.manual_seed(0)
    gate = AEMGate(embed_dims=16, num_experts=4, top_k=k, num_heads=2)
    w, probs = gate(torch.randn(5, 16), torch.randn(1, 16, 4, 4),
                    torch.randn(1, 16, 4, 4))
    assert w.shape == probs.shape == (5, 4)
    assert ((w > 0).sum(1) == k).all()
    assert torch.allclose(w.sum(1), torch.ones(5))
    assert torch.allclose(probs.sum(1), torch.ones(5))
    kept = probs.topk(k, 1).indices.sort(1).values
    assert torch.equal((w > 0).nonzero()[:, 1].view(5, k), kept)
    with pytest.raises(ValueError, match='top_k'):
        AEMGate(embed_dims=16, num_experts=4, top_k=0)


def test_mixture_is_the_weighted_sum_and_routes_gradients():
    torch.manual_seed(0)
    aem = AdaptiveExpertMixture(
        expert=EXPERT, num_experts=4,
        gate=dict(type='AEMGate', top_k=2, num_heads=2))
    img = torch.randn(1, 16, 4, 4)
    pe = torch.randn(1, 16, 4, 4)
    sparse = torch.randn(1, 1, 16)
    dense = torch.randn(1, 16, 4, 4)
    out = aem(img, pe, sparse, dense)
    assert out['masks'].shape == (1, 1, 16, 16)
    w = out['gate_weights']
    manual = sum(w[:, i, None, None, None] * out['expert_masks'][:, i]
                 for i in range(4))
    assert torch.allclose(out['masks'], manual, atol=1e-6)
    out['masks'].sum().backward()
    kept = set((w[0] > 0).nonzero()[:, 0].tolist())
    assert len(kept) == 2
    for i, expert in enumerate(aem.experts):
        grad = expert.decoder.output_hypernetworks_mlps[0].layers[0].weight \
            .grad
        if i in kept:
            assert grad is not None and grad.abs().sum() > 0
        else:
            assert grad is None or grad.abs().sum() == 0
    assert aem.gate.fc.weight.grad.abs().sum() > 0


def test_mixture_probs_mode_and_errors():
    torch.manual_seed(0)
    aem = AdaptiveExpertMixture(expert=EXPERT, num_experts=2, mix='probs',
                                gate=dict(type='AEMGate', top_k=1,
                                          num_heads=2))
    out = aem(torch.randn(1, 16, 4, 4), torch.randn(1, 16, 4, 4),
              torch.randn(3, 1, 16), torch.randn(1, 16, 4, 4))
    pick = out['gate_weights'].argmax(1)
    chosen = out['expert_masks'][torch.arange(3), pick]
    assert torch.allclose(out['masks'].sigmoid(), chosen.sigmoid(),
                          atol=1e-5)
    with pytest.raises(ValueError, match='mix'):
        AdaptiveExpertMixture(expert=EXPERT, mix='max')


def test_full_size_parameter_counts(repo_root):
    """SAM ViT-H's mask decoder has 4,058,340 parameters; the gate adds
    self-attention 263,168 + 2 cross-attention 526,336 + 3 LayerNorms 1,536
    + MLP (256-1024-256) 525,568 + linear (256->4) 1,028 = 1,317,636."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpathseg.registry import MODELS
    init_default_scope('mmpathseg')
    cfg = Config.fromfile(
        str(repo_root / 'configs/_base_/models/ltse_llava-7b_sam-h.py'))
    with torch.device('meta'):
        aem = MODELS.build(cfg.model.mask_decoder)
        single = MODELS.build(cfg.model.mask_decoder.expert)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(single) == 4_058_340
    assert count(aem.gate) == 1_317_636
    assert count(aem) == 4 * 4_058_340 + 1_317_636
