# Copyright (c) mmpathseg contributors. All rights reserved.
"""SAMViT: shapes, equality with segment-anything's encoder, CellViT's
position-embedding crop at small inputs, table resampling, freezing."""
from functools import partial

import pytest
import torch
import torch.nn as nn

from mmpathseg.models.backbones import SAMViT

# 64 wide, 4 blocks (global at 1 and 3), window 2, tables for an 8 x 8 grid
TINY = dict(arch='tiny', img_size=128, window_size=2, out_channels=32)


def tiny(**kwargs):
    torch.manual_seed(0)
    model = SAMViT(**{**TINY, **kwargs})
    # SAM zero-initialises its position tables: make them informative
    for name, param in model.named_parameters():
        if 'pos' in name:
            nn.init.normal_(param, std=0.5)
    return model


def official_encoder(img_size=128):
    from segment_anything.modeling import ImageEncoderViT
    return ImageEncoderViT(
        img_size=img_size, patch_size=16, embed_dim=64, depth=4,
        num_heads=4, mlp_ratio=4, out_chans=32, qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6), use_rel_pos=True,
        global_attn_indexes=(1, 3), window_size=2)


@pytest.mark.parametrize('size', [(64, 64), (48, 80)])
def test_output_shapes(size):
    model = tiny()
    feats, cls = model(torch.randn(2, 3, *size))
    assert [tuple(f.shape) for f in feats] == \
        [(2, 64, size[0] // 16, size[1] // 16)] * 4
    assert cls.shape == (2, 32) and model.cls_channels == 32
    model = tiny(with_neck=False)
    assert model(torch.randn(1, 3, 32, 32))[1] is None
    assert model.cls_channels is None


def test_equals_segment_anything_encoder_at_full_size():
    """Same names, same weights, same outputs as ImageEncoderViT."""
    model = tiny().eval()
    official = official_encoder().eval()
    result = official.load_state_dict(model.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        feats, cls = model(x)
        neck = official(x)
    torch.testing.assert_close(cls, neck.mean(dim=(2, 3)))
    tokens = official.patch_embed(x) + official.pos_embed
    for block in official.blocks[:2]:
        tokens = block(tokens)
    torch.testing.assert_close(feats[1], tokens.permute(0, 3, 1, 2))


def test_small_inputs_crop_the_table_like_cellvit():
    model = tiny().eval()
    x = torch.randn(1, 3, 64, 48)  # 4 x 3 grid of an 8 x 8 table
    tokens, cls = model.embed(x)
    assert cls is None
    expected = model.patch_embed(x) + model.pos_embed[:, :4, :3, :]
    torch.testing.assert_close(tokens, expected)
    interpolated = tiny(pos_embed_mode='interpolate').eval().embed(x)[0]
    assert not torch.allclose(interpolated, tokens)
    with pytest.raises(ValueError, match='interpolate'):
        model.embed(torch.randn(1, 3, 144, 16))  # 9 rows > 8
    assert tiny(pos_embed_mode='interpolate')(
        torch.randn(1, 3, 144, 16))[0][0].shape == (1, 64, 9, 1)


def test_checkpoint_of_another_size_is_resampled_at_load():
    source = tiny()
    target = SAMViT(**{**TINY, 'img_size': 64})  # 4 x 4 table, 7-long rel
    result = target.load_state_dict(source.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert target.pos_embed.shape == (1, 4, 4, 64)
    assert target.blocks[1].attn.rel_pos_h.shape == (7, 16)
    assert target.blocks[0].attn.rel_pos_h.shape == (3, 16)  # windowed


def test_official_global_attention_indexes():
    with torch.device('meta'):
        counts = {}
        for arch in ('vit-b', 'vit-l', 'vit-h'):
            model = SAMViT(arch=arch)
            windows = [b.window_size for b in model.blocks]
            assert [i for i, w in enumerate(windows) if w == 0] == \
                list(model.global_attn_indexes)
            assert model.out_indices == model.global_attn_indexes
            counts[arch] = sum(p.numel() for p in model.parameters())
    # CellViT's frozen SAM encoders (neck included), from its logs
    assert counts == {
        'vit-b': 89_670_912,
        'vit-l': 308_278_272,
        'vit-h': 637_026_048
    }


def test_freezing():
    model = tiny(frozen=True)
    assert not any(p.requires_grad for p in model.parameters())
    model = tiny()
    model.freeze(trunk_only=True)
    trainable = {n.split('.')[0] for n, p in model.named_parameters()
                 if p.requires_grad}
    assert trainable == {'neck'}
    feats, cls = model(torch.randn(1, 3, 32, 32))
    (sum(f.sum() for f in feats) + cls.sum()).backward()
    for name, param in model.named_parameters():
        assert (param.grad is None) == (not name.startswith('neck')), name
    model = tiny(frozen_stages=1)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert {n.split('.')[0] + ('.' + n.split('.')[1] if n.startswith(
        'blocks') else '') for n in frozen} == {'patch_embed', 'pos_embed',
                                                'blocks.0'}
    with pytest.raises(ValueError, match='class token'):
        model.forward_blocks(*model.embed(torch.randn(1, 3, 32, 32))[:1],
                             torch.zeros(1, 1, 64), 0, 1)
