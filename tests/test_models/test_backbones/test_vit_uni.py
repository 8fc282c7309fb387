# Copyright (c) mmpathseg contributors. All rights reserved.
"""UNIViT: shapes, timm names, position-embedding resampling, freezing."""
import pytest
import torch
import torch.nn.functional as F

from mmpathseg.models.backbones import UNIViT
from mmpathseg.models.backbones.vit_uni import resample_abs_pos_embed

TINY = dict(arch='tiny', img_size=64)  # 64 wide, 4 blocks, 4x4 grid


def tiny(**kwargs):
    torch.manual_seed(0)
    return UNIViT(**{**TINY, **kwargs})


def timm_names(depth, layer_scale=True):
    """The names timm's VisionTransformer (num_classes=0) saves."""
    names = ['cls_token', 'pos_embed', 'patch_embed.proj.weight',
             'patch_embed.proj.bias']
    for i in range(depth):
        block = [
            'norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias',
            'attn.proj.weight', 'attn.proj.bias', 'norm2.weight',
            'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight',
            'mlp.fc2.bias'
        ]
        if layer_scale:
            block += ['ls1.gamma', 'ls2.gamma']
        names += [f'blocks.{i}.{name}' for name in block]
    return set(names + ['norm.weight', 'norm.bias'])


@pytest.mark.parametrize('size', [(64, 64), (48, 80)])
def test_output_shapes(size):
    model = tiny()
    feats, cls = model(torch.randn(2, 3, *size))
    assert [tuple(f.shape) for f in feats] == \
        [(2, 64, size[0] // 16, size[1] // 16)] * 4
    assert cls.shape == (2, 64)
    assert model.embed_dims == model.cls_channels == 64


def test_out_indices_pick_block_outputs():
    model = tiny(out_indices=(0, 3)).eval()
    x = torch.randn(1, 3, 32, 32)
    feats, _ = model(x)
    tokens, cls = model.embed(x)
    after_first, cls1 = model.forward_blocks(tokens, cls, 0, 1)
    torch.testing.assert_close(feats[0], after_first.permute(0, 3, 1, 2))
    assert model.out_indices == (0, 3)
    with torch.device('meta'):
        assert UNIViT(arch='large').out_indices == (5, 11, 17, 23)
    with pytest.raises(ValueError, match='outside'):
        tiny(out_indices=(1, 4))
    with pytest.raises(ValueError, match='multiple of the patch'):
        model(torch.randn(1, 3, 40, 32))


def test_parameter_names_are_timm_names():
    assert set(tiny().state_dict()) == timm_names(4)
    assert set(tiny(init_values=None).state_dict()) == timm_names(4, False)


def test_uni_large_layout_and_count_on_meta():
    with torch.device('meta'):
        model = UNIViT(arch='large')
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes['pos_embed'] == (1, 197, 1024)
    assert shapes['blocks.23.ls2.gamma'] == (1024, )
    assert shapes['blocks.0.mlp.fc1.weight'] == (4096, 1024)
    count = sum(p.numel() for p in model.parameters())
    # 303,348,736 UNI trunk (digest) + final LayerNorm 2,048
    assert count == 303_348_736 + 2_048


def test_resample_abs_pos_embed_matches_timm_convention():
    torch.manual_seed(0)
    pos = torch.randn(1, 1 + 4 * 4, 8)
    assert resample_abs_pos_embed(pos, (4, 4)) is pos
    out = resample_abs_pos_embed(pos, (6, 5))
    assert out.shape == (1, 1 + 30, 8)
    torch.testing.assert_close(out[:, :1], pos[:, :1])  # class entry kept
    grid = pos[:, 1:].reshape(1, 4, 4, 8).permute(0, 3, 1, 2)
    expected = F.interpolate(
        grid, size=(6, 5), mode='bicubic', antialias=True,
        align_corners=False).permute(0, 2, 3, 1).reshape(1, 30, 8)
    torch.testing.assert_close(out[:, 1:], expected)
    # a constant table stays constant
    const = torch.ones(1, 17, 3)
    torch.testing.assert_close(
        resample_abs_pos_embed(const, (7, 7)), torch.ones(1, 50, 3))


def test_embed_uses_resampled_table_and_cls_gets_its_entry():
    model = tiny().eval()
    x = torch.randn(1, 3, 96, 32)  # 6 x 2 grid from a 4 x 4 table
    tokens, cls = model.embed(x)
    pos = resample_abs_pos_embed(model.pos_embed, (6, 2))
    patches = model.patch_embed.proj(x).permute(0, 2, 3, 1)
    torch.testing.assert_close(tokens, patches + pos[:, 1:].reshape(
        1, 6, 2, 64))
    torch.testing.assert_close(cls, model.cls_token + model.pos_embed[:, :1])


def test_loading_a_checkpoint_of_another_grid_resamples_it():
    source = UNIViT(arch='tiny', img_size=224)  # 14 x 14 table like UNI
    target = tiny()  # 4 x 4 table
    result = target.load_state_dict(source.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    torch.testing.assert_close(
        target.pos_embed,
        resample_abs_pos_embed(source.pos_embed, (4, 4)))


def test_frozen_freezes_everything_and_gets_no_grad():
    model = tiny(frozen=True)
    assert not any(p.requires_grad for p in model.parameters())
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    feats, cls = model(x)
    (sum(f.sum() for f in feats) + cls.sum()).backward()
    assert all(p.grad is None for p in model.parameters())
    assert x.grad is not None  # gradients still flow through


def test_frozen_stages_and_trunk_only():
    model = tiny(frozen_stages=2)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {
        n
        for n, _ in model.named_parameters()
        if n.startswith(('patch_embed', 'cls_token', 'pos_embed',
                         'blocks.0.', 'blocks.1.'))
    }
    feats, cls = model(torch.randn(1, 3, 32, 32))
    (sum(f.sum() for f in feats) + cls.sum()).backward()
    for name, param in model.named_parameters():
        assert (param.grad is None) == (name in frozen), name

    model = tiny()
    model.freeze(trunk_only=True, eval_mode=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {'norm.weight', 'norm.bias'}
    model.unfreeze()
    assert all(p.requires_grad for p in model.parameters())
    assert model.train().blocks.training


@pytest.mark.parametrize('frozen_eval', [False, True])
def test_frozen_eval_controls_stochastic_depth(frozen_eval):
    model = tiny(drop_path_rate=0.9, frozen=True, frozen_eval=frozen_eval)
    model.train()
    assert model.blocks.training is not frozen_eval
    x = torch.randn(4, 3, 32, 32)
    torch.manual_seed(1)
    first = model(x)[0][-1]
    torch.manual_seed(2)
    second = model(x)[0][-1]
    assert torch.equal(first, second) is frozen_eval


def test_cls_norm_switch():
    model = tiny().eval()
    x = torch.randn(1, 3, 32, 32)
    normed = model(x)[1]
    model.norm_cls_token = False
    raw = model(x)[1]
    torch.testing.assert_close(normed, model.norm(raw))
    assert UNIViT(arch='tiny', with_cls_token=False)(x)[1] is None
