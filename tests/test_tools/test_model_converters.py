# Copyright (c) mmpathseg contributors. All rights reserved.
"""tools/model_converters/{uni,sam}2mmpathseg.py: tiny checkpoints in the
official key layouts convert and load with no missing or unexpected keys;
files that are not plain tensor dicts are refused."""
import argparse
import importlib.util
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from mmpathseg.models.backbones import CellVTAAdapter, SAMViT, UNIViT
from mmpathseg.utils.checkpoint import load_weights_only

CONVERTERS = Path(__file__).resolve().parents[2] / 'tools' / \
    'model_converters'


def load_script(name):
    spec = importlib.util.spec_from_file_location(name,
                                                  CONVERTERS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


uni2mmpathseg = load_script('uni2mmpathseg')
sam2mmpathseg = load_script('sam2mmpathseg')


def fake_uni_checkpoint(dims=64, depth=4, grid=4, with_head=True):
    """A random state dict with timm's ViT names and shapes, written out by
    hand (independent of UNIViT)."""
    gen = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=gen)

    state = {
        'cls_token': rand(1, 1, dims),
        'pos_embed': rand(1, grid * grid + 1, dims),
        'patch_embed.proj.weight': rand(dims, 3, 16, 16),
        'patch_embed.proj.bias': rand(dims),
    }
    for i in range(depth):
        prefix = f'blocks.{i}.'
        state.update({
            prefix + 'norm1.weight': rand(dims),
            prefix + 'norm1.bias': rand(dims),
            prefix + 'attn.qkv.weight': rand(3 * dims, dims),
            prefix + 'attn.qkv.bias': rand(3 * dims),
            prefix + 'attn.proj.weight': rand(dims, dims),
            prefix + 'attn.proj.bias': rand(dims),
            prefix + 'ls1.gamma': rand(dims),
            prefix + 'norm2.weight': rand(dims),
            prefix + 'norm2.bias': rand(dims),
            prefix + 'mlp.fc1.weight': rand(4 * dims, dims),
            prefix + 'mlp.fc1.bias': rand(4 * dims),
            prefix + 'mlp.fc2.weight': rand(dims, 4 * dims),
            prefix + 'mlp.fc2.bias': rand(dims),
            prefix + 'ls2.gamma': rand(dims),
        })
    state['norm.weight'] = rand(dims)
    state['norm.bias'] = rand(dims)
    if with_head:
        state['head.weight'] = rand(5, dims)
        state['head.bias'] = rand(5)
    return state


def fake_sam_checkpoint():
    """A tiny segment-anything ``Sam`` saved as the official files are."""
    from segment_anything.modeling import (ImageEncoderViT, MaskDecoder,
                                           PromptEncoder, Sam,
                                           TwoWayTransformer)
    torch.manual_seed(0)
    sam = Sam(
        image_encoder=ImageEncoderViT(
            img_size=128, patch_size=16, embed_dim=64, depth=4, num_heads=4,
            mlp_ratio=4, out_chans=32, qkv_bias=True,
            norm_layer=partial(nn.LayerNorm, eps=1e-6), use_rel_pos=True,
            global_attn_indexes=(1, 3), window_size=2),
        prompt_encoder=PromptEncoder(
            embed_dim=32,
            image_embedding_size=(8, 8),
            input_image_size=(128, 128),
            mask_in_chans=4),
        mask_decoder=MaskDecoder(
            transformer_dim=32,
            transformer=TwoWayTransformer(
                depth=1, embedding_dim=32, mlp_dim=64, num_heads=2),
            iou_head_depth=1,
            iou_head_hidden_dim=16))
    state = sam.state_dict()
    for key, value in state.items():  # SAM zero-inits positions
        state[key] = torch.randn_like(value)
    return state


def test_uni_round_trip(tmp_path, capsys):
    official = fake_uni_checkpoint()
    src, dst = tmp_path / 'pytorch_model.bin', tmp_path / 'uni.pth'
    torch.save(official, src)
    assert uni2mmpathseg.main([str(src), str(dst)]) == 0
    assert '64 wide, 4 blocks' in capsys.readouterr().out
    # mmpathseg's weights-only checkpoint loader accepts the output
    converted = load_weights_only(str(dst))
    assert set(converted) == set(official) - {'head.weight', 'head.bias'}
    model = UNIViT(arch='tiny', img_size=64)
    result = model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in model.state_dict().items():
        assert torch.equal(value, official[key]), key


def test_uni_weights_reach_the_adapter_vit_through_init_cfg(tmp_path):
    official = fake_uni_checkpoint(with_head=False)
    src, dst = tmp_path / 'pytorch_model.bin', tmp_path / 'uni.pth'
    torch.save(official, src)
    uni2mmpathseg.convert(str(src), str(dst))
    model = CellVTAAdapter(
        vit=dict(
            type='UNIViT',
            arch='tiny',
            img_size=64,
            init_cfg=dict(type='Pretrained', checkpoint=str(dst))),
        conv_inplane=8,
        deform_num_heads=4)
    model.init_weights()
    for key, value in model.vit.state_dict().items():
        assert torch.equal(value, official[key]), key


@pytest.mark.parametrize('with_neck', [True, False])
def test_sam_round_trip(tmp_path, with_neck):
    official = fake_sam_checkpoint()
    src, dst = tmp_path / 'sam_vit_t.pth', tmp_path / 'sam.pth'
    torch.save(official, src)
    argv = [str(src), str(dst)] + ([] if with_neck else ['--no-neck'])
    assert sam2mmpathseg.main(argv) == 0
    converted = torch.load(dst, weights_only=True)
    model = SAMViT(
        arch='tiny',
        img_size=128,
        window_size=2,
        out_channels=32,
        with_neck=with_neck)
    result = model.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in model.state_dict().items():
        assert torch.equal(value, official['image_encoder.' + key]), key
    # an encoder-only file converts to the same
    encoder_only = {k[len('image_encoder.'):]: v for k, v in official.items()
                    if k.startswith('image_encoder.')}
    again = sam2mmpathseg.convert_sam(encoder_only, with_neck)
    assert list(again) == list(converted)


@pytest.mark.parametrize('script', [uni2mmpathseg, sam2mmpathseg])
def test_refuses_pickled_objects_and_non_tensor_entries(
        tmp_path, capsys, script):
    pickled = tmp_path / 'pickled.pth'
    torch.save({'weight': torch.zeros(1), 'args': argparse.Namespace(a=1)},
               pickled)
    dst = tmp_path / 'out.pth'
    assert script.main([str(pickled), str(dst)]) == 1
    err = capsys.readouterr().err
    assert 'refused' in err and 'not a plain state dict' in err
    assert not dst.exists()

    numbers = tmp_path / 'numbers.pth'
    torch.save({'epoch': 3, 'weight': torch.zeros(1)}, numbers)
    assert script.main([str(numbers), str(dst)]) == 1
    assert "['epoch'] are not tensors" in capsys.readouterr().err
    assert not dst.exists()


def test_refuses_foreign_layouts(tmp_path):
    state = fake_uni_checkpoint()
    state['reg_token'] = torch.zeros(1, 4, 64)
    with pytest.raises(uni2mmpathseg.ConversionError, match='reg_token'):
        uni2mmpathseg.convert_uni(state)
    with pytest.raises(sam2mmpathseg.ConversionError, match='no SAM image'):
        sam2mmpathseg.convert_sam(
            {'mask_decoder.iou_token.weight': torch.zeros(1, 32)})
    with pytest.raises(sam2mmpathseg.ConversionError, match='outside'):
        sam2mmpathseg.convert_sam(fake_uni_checkpoint())
