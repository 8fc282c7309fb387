# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellVTAAdapter on UNI-style and SAM-style ViTs: pyramid shapes, freezing,
the full-size parameter count, and what each quirk switch changes."""
import pytest
import torch

from mmpathseg.models.backbones import CellVTAAdapter
from mmpathseg.models.backbones.adapter import MSDeformAttn
from mmpathseg.models.backbones.cellvta_adapter import \
    default_interaction_indexes
from mmpathseg.registry import MODELS

UNI_TINY = dict(type='UNIViT', arch='tiny', img_size=64, drop_path_rate=0.4)
SAM_TINY = dict(
    type='SAMViT', arch='tiny', img_size=128, window_size=2, out_channels=32)
SMALL = dict(conv_inplane=8, deform_num_heads=4)  # D=64: 8 value dims/head


def adapter(vit=UNI_TINY, **kwargs):
    torch.manual_seed(0)
    return CellVTAAdapter(vit=vit, **{**SMALL, **kwargs})


@pytest.mark.parametrize('vit,cls_dims', [(UNI_TINY, 64), (SAM_TINY, 32)])
@pytest.mark.parametrize('size', [(64, 64), (32, 80)])
def test_pyramid_shapes(vit, cls_dims, size):
    model = adapter(vit)
    feats, cls = model(torch.randn(2, 3, *size))
    height, width = size
    assert [tuple(f.shape) for f in feats] == [
        (2, 64, height // 2, width // 2), (2, 64, height // 4, width // 4),
        (2, 64, height // 8, width // 8), (2, 64, height // 16, width // 16)
    ]
    assert cls.shape == (2, cls_dims) == (2, model.cls_channels)
    assert model.embed_dims == 64
    with pytest.raises(ValueError, match='multiple of 16'):
        model(torch.randn(1, 3, 40, 32))


def test_builds_from_registry_and_default_indexes():
    model = MODELS.build(dict(type='CellVTAAdapter', vit=UNI_TINY, **SMALL))
    assert model.interaction_indexes == [[0, 0], [1, 1], [2, 2], [3, 3]]
    assert default_interaction_indexes(12) == [[0, 2], [3, 5], [6, 8],
                                               [9, 11]]
    assert default_interaction_indexes(24) == [[0, 5], [6, 11], [12, 17],
                                               [18, 23]]
    assert default_interaction_indexes(32) == [[0, 7], [8, 15], [16, 23],
                                               [24, 31]]
    with pytest.raises(ValueError, match='covering blocks'):
        adapter(interaction_indexes=[[0, 1], [3, 3], [2, 2], [3, 3]])


@pytest.mark.parametrize('vit', [UNI_TINY, SAM_TINY])
def test_freeze_vit_trunk_and_gradients(vit):
    model = adapter(vit)
    model.train()
    feats, cls = model(torch.randn(2, 3, 32, 32))
    (sum(f.mean() for f in feats) + cls.mean()).backward()
    head_path = 'vit.norm.' if vit is UNI_TINY else 'vit.neck.'
    for name, param in model.named_parameters():
        frozen = name.startswith('vit.') and not name.startswith(head_path)
        assert param.requires_grad is not frozen, name
        if frozen:
            assert param.grad is None, name
    for name in ('level_embed', 'spm.stem.0.weight', 'up.weight',
                 'interactions.0.injector.gamma',
                 'interactions.3.extra_extractors.1.ffn.fc2.weight',
                 'norm1.weight', head_path + 'weight' if vit is UNI_TINY
                 else head_path + '0.weight'):
        assert dict(model.named_parameters())[name].grad is not None, name
    assert not adapter(vit, freeze_vit=False).vit._frozen_modules


def test_full_size_parameter_count_on_meta():
    """UNI ViT-L + CellVTA adapter = the research digest's hand count."""
    with torch.device('meta'):
        model = CellVTAAdapter(
            vit=dict(type='UNIViT', arch='large', drop_path_rate=0.4))

    def count(module):
        return sum(p.numel() for p in module.parameters())

    vit_norm = count(model.vit.norm)
    assert count(model.vit) - vit_norm == 303_348_736  # frozen UNI trunk
    assert vit_norm == 2_048
    assert count(model.spm) == 2_572_480
    assert count(model.interactions[0].injector) == 1_350_432
    assert count(model.interactions[0].extractor) == 1_682_784
    assert count(model.interactions[3].extra_extractors) == 3_365_568
    assert count(model.up) == 4_195_328
    adapter_total = count(model) - count(model.vit)
    assert adapter_total == 22_277_504
    assert count(model) == 325_628_288
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 22_277_504 + 2_048


def test_cls_token_through_blocks_switch():
    x1, x2 = torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)
    faithful = adapter().eval()
    cls1, cls2 = faithful(x1)[1], faithful(x2)[1]
    # the reference's tissue input is the same for every image
    torch.testing.assert_close(cls1, cls2)
    vit = faithful.vit
    torch.testing.assert_close(
        cls1[0], vit.norm(vit.cls_token + vit.pos_embed[:, 0])[0, 0])
    fixed = adapter(cls_token_through_blocks=True).eval()
    assert not torch.allclose(fixed(x1)[1], fixed(x2)[1])
    # pyramids agree when the class token does not join the attention...
    # ...but not when it does (it changes the patch tokens' attention)
    assert not torch.allclose(fixed(x1)[0][3], faithful(x1)[0][3])


def test_reinit_deform_attn_linear_switch():
    reference = MSDeformAttn(64, 3, 4, 4, 0.5).sampling_offsets.bias
    wiped = [m for m in adapter().modules() if isinstance(m, MSDeformAttn)]
    assert len(wiped) == 4 * 2 + 2
    for module in wiped:
        assert not module.sampling_offsets.bias.any()
        assert module.attention_weights.weight.abs().sum() > 0
        assert 0.005 < module.sampling_offsets.weight.std() < 0.03
    kept = [
        m for m in adapter(reinit_deform_attn_linear=False).modules()
        if isinstance(m, MSDeformAttn)
    ]
    torch.testing.assert_close(kept[0].sampling_offsets.bias, reference)
    for module in kept:
        assert module.sampling_offsets.bias.abs().max() == 4  # point 4
        assert not module.attention_weights.weight.any()
        assert not module.sampling_offsets.weight.any()


def test_init_values_switch():
    model = adapter()
    for stage in model.interactions:
        torch.testing.assert_close(stage.injector.gamma,
                                   torch.full((64, ), 1e-5))
    # gamma = 0: the injector leaves the ViT tokens untouched
    model = adapter(init_values=0.).eval()
    captured = []
    model.vit.blocks[3].register_forward_hook(
        lambda mod, inp, out: captured.append(out))
    x = torch.randn(1, 3, 32, 32)
    model(x)
    tokens, _ = model.vit.embed(x)
    plain, _ = model.vit.forward_blocks(tokens, None, 0, 4)
    torch.testing.assert_close(captured[0], plain.reshape(1, 4, 64))


def test_frozen_eval_and_add_vit_feature_switches():
    model = adapter(frozen_eval=False).train()
    assert model.vit.blocks.training and model.spm.training
    model = adapter(frozen_eval=True).train()
    assert not model.vit.blocks.training and model.spm.training
    assert model.vit.norm.training  # trainable head path stays in train
    x = torch.randn(1, 3, 32, 32)
    with_vit = adapter().eval()(x)[0]
    without = adapter(add_vit_feature=False).eval()(x)[0]
    assert all(not torch.allclose(a, b) for a, b in zip(with_vit, without))
