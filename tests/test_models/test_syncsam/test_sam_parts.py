# Copyright (c) mmpathseg contributors. All rights reserved.
"""Our SAM parts against segment_anything's on fixed inputs, full-size
shapes (meta device) and parameter counts of the new modules."""
import sys
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpathseg.models.backbones import (MultiScaleFusion, SAMMed2DAdapter,
                                        TokenProjection)
from mmpathseg.models.segmentors.interactive_simulation import \
    sample_error_clicks
from mmpathseg.registry import MODELS

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / 'tests' / 'data'))
from tiny_promptable import TINY_PROMPT  # noqa: E402

init_default_scope('mmpathseg')
sam_modeling = pytest.importorskip('segment_anything.modeling')


def _numel(module):
    return sum(p.numel() for p in module.parameters())


def test_prompt_encoder_matches_official():
    torch.manual_seed(0)
    ours = MODELS.build(
        dict(type='SAMPromptEncoder', embed_dims=32,
             image_embedding_size=4, input_image_size=64,
             mask_in_channels=8))
    ref = sam_modeling.PromptEncoder(
        embed_dim=32, image_embedding_size=(4, 4), input_image_size=(64, 64),
        mask_in_chans=8)
    ref.load_state_dict(ours.state_dict())
    for emb in ref.point_embeddings:  # non-zero for a real check
        nn.init.normal_(emb.weight)
    nn.init.normal_(ref.not_a_point_embed.weight)
    for module in ref.mask_downscaling.modules():
        if getattr(module, 'bias', None) is not None:
            nn.init.normal_(module.bias)
    ours.load_state_dict(ref.state_dict())
    coords = torch.tensor([[[3., 5.], [40., 12.]], [[7., 7.], [0., 0.]]])
    labels = torch.tensor([[1, 0], [1, -1]])
    boxes = torch.tensor([[1., 2., 30., 40.], [5., 5., 9., 9.]])
    masks = torch.randn(2, 1, 16, 16)
    for kwargs in (dict(points=(coords, labels)), dict(boxes=boxes),
                   dict(points=(coords, labels), boxes=boxes, masks=masks)):
        s1, d1 = ours(**kwargs)
        s2, d2 = ref(**{k: kwargs.get(k) for k in ('points', 'boxes',
                                                   'masks')})
        torch.testing.assert_close(s1, s2)
        torch.testing.assert_close(d1, d2)
    torch.testing.assert_close(ours.get_dense_pe(), ref.get_dense_pe())


@pytest.mark.parametrize('multimask', [False, True])
def test_mask_decoder_matches_official(multimask):
    torch.manual_seed(0)
    ours = MODELS.build(
        dict(type='SAMMaskDecoder', embed_dims=32, depth=1, num_heads=2,
             mlp_dims=64, iou_head_hidden_dims=32,
             multimask_output=multimask))
    ref = sam_modeling.MaskDecoder(
        transformer_dim=32,
        transformer=sam_modeling.TwoWayTransformer(
            depth=1, embedding_dim=32, num_heads=2, mlp_dim=64),
        iou_head_hidden_dim=32)
    missing = ref.load_state_dict(ours.state_dict(), strict=False)
    assert not missing.missing_keys
    emb, pe = torch.randn(1, 32, 4, 4), torch.randn(1, 32, 4, 4)
    sparse, dense = torch.randn(3, 2, 32), torch.randn(3, 32, 4, 4)
    logits, iou = ours(emb.expand(3, -1, -1, -1), pe, sparse, dense)
    ref_logits, ref_iou = ref(emb, pe, sparse, dense, multimask)
    if multimask:  # ours keeps the best of SAM's three
        best = ref_iou.argmax(1)
        ref_logits = ref_logits[torch.arange(3), best][:, None]
        ref_iou = ref_iou[torch.arange(3), best][:, None]
    torch.testing.assert_close(logits, ref_logits)
    torch.testing.assert_close(iou, ref_iou)


def _vit_cfg(**kw):
    return dict(
        type='SAMViT',
        arch=dict(embed_dims=32, num_layers=8, num_heads=2,
                  global_attn_indexes=(1, 3, 5, 7)),
        img_size=64, window_size=2, out_channels=16, frozen=True, **kw)


def test_zero_projection_reproduces_plain_sam_encoder():
    """Stage-by-stage execution with zero CNN features = SAM's encoder."""
    torch.manual_seed(0)
    enc = MODELS.build(
        dict(type='SyncSAMEncoder', vit=_vit_cfg(),
             cnn=dict(type='ResNet', depth=18, base_channels=8,
                      stem_channels=8),
             cnn_channels=(8, 16, 32, 64), zero_init_projections=True))
    ref = sam_modeling.ImageEncoderViT(
        img_size=64, patch_size=16, embed_dim=32, depth=8, num_heads=2,
        mlp_ratio=4, out_chans=16, qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6), use_rel_pos=True,
        window_size=2, global_attn_indexes=(1, 3, 5, 7))
    for block in ref.blocks:  # non-zero relative positions
        nn.init.normal_(block.attn.rel_pos_h, std=0.1)
    state = {k: v for k, v in ref.state_dict().items()}
    enc.vit.load_state_dict(state)
    enc.eval()
    x = torch.randn(2, 3, 64, 64)
    emb, hq = enc(x)
    assert hq is None
    torch.testing.assert_close(emb, ref(x))


@pytest.mark.parametrize('size', [256, 1024])
@pytest.mark.parametrize('depth,channels', [(50, (256, 512, 1024, 2048)),
                                            (34, (64, 128, 256, 512))])
def test_full_size_fusion_shapes(size, depth, channels):
    """ViT-B + ResNet at SyncSAM's 256 and SAM's 1024 input (meta device:
    shapes only, no compute)."""
    with torch.device('meta'):
        enc = MODELS.build(
            dict(type='SyncSAMEncoder',
                 vit=dict(type='SAMViT', arch='vit-b', img_size=size,
                          frozen=True),
                 cnn=dict(type='ResNet', depth=depth),
                 cnn_channels=channels,
                 multi_scale=dict(type='MultiScaleFusion',
                                  vit_channels=768)))
        x = torch.empty(1, 3, size, size)
        feats = enc.cnn(x)
        grid = size // 16
        for proj, feat in zip(enc.projections, feats):
            assert tuple(proj(feat).shape) == (1, 768, grid, grid)
        emb, hq = enc(x)
    assert tuple(emb.shape) == (1, 256, grid, grid)
    assert tuple(hq.shape) == (1, 32, size // 4, size // 4)


def test_parameter_counts_of_new_modules():
    """Counts from building the reference's modules (research digest)."""
    rn50 = [TokenProjection(c, 768, s)
            for c, s in zip((256, 512, 1024, 2048), (4, 2, 1, .5))]
    assert [round(_numel(p) / 1e6, 2) for p in rn50] == \
        [6.69, 5.51, 0.79, 9.18]
    rn34 = [TokenProjection(c, 768, s)
            for c, s in zip((64, 128, 256, 512), (4, 2, 1, .5))]
    assert [round(_numel(p) / 1e6, 2) for p in rn34] == \
        [0.57, 0.49, 0.20, 0.72]
    ms = MultiScaleFusion(vit_channels=768)
    assert round(_numel(ms.bridges[0]) / 1e6, 2) == 0.82
    assert round(_numel(ms.embedding_encoder) / 1e3) == 74
    dec = MODELS.build(dict(type='MedTokenMaskDecoder'))
    new = sum(_numel(getattr(dec, n))
              for n in ('med_token', 'hf_mlp', 'embedding_maskfeature'))
    assert round(new / 1e3) == 177
    assert round(_numel(SAMMed2DAdapter(768)) / 1e6, 2) == 15.04


def test_adapter_vit_trains_only_adapters():
    vit = MODELS.build(dict(_vit_cfg(), type='SAMAdapterViT'))
    names = [n for n, p in vit.named_parameters() if p.requires_grad]
    assert names and all('.Adapter.' in n for n in names)
    assert len({n.split('.')[1] for n in names}) == 8  # every block
    tokens, _ = vit.embed(torch.randn(1, 3, 64, 64))
    out, _ = vit.forward_blocks(tokens, None, 0, 8)
    out.sum().backward()
    assert vit.blocks[0].Adapter.spatial[0].weight.grad is not None


def test_error_clicks_land_on_errors_with_the_right_label():
    gt = torch.zeros(3, 8, 8, dtype=torch.bool)
    pred = torch.zeros_like(gt)
    gt[0, 2:4, 2:4] = True          # mask 0: all false negatives
    pred[1, 5:7, 5:7] = True        # mask 1: all false positives
    gt[2, 1:3, 1:3] = pred[2, 1:3, 1:3] = True  # mask 2: perfect
    coords, labels = sample_error_clicks(
        pred, gt, 20, generator=torch.Generator().manual_seed(0))
    xs, ys = coords[..., 0].long(), coords[..., 1].long()
    assert ((xs[0] >= 2) & (xs[0] < 4) & (ys[0] >= 2) & (ys[0] < 4)).all()
    assert (labels[0] == 1).all()
    assert ((xs[1] >= 5) & (xs[1] < 7) & (ys[1] >= 5) & (ys[1] < 7)).all()
    assert (labels[1] == 0).all()
    assert (labels[2] == -1).all()
    # Clicks stay inside the valid region (not in the padding).
    valid = torch.zeros_like(gt)
    valid[:, :, :6] = True  # columns 0..5
    coords, labels = sample_error_clicks(pred, gt, 20, valid)
    assert (coords[1, :, 0] == 5).all() and (labels[1] == 0).all()
    valid[:, :, 5] = False
    coords, labels = sample_error_clicks(pred, gt, 20, valid)
    assert (labels[1] == -1).all()  # no error left inside the image


def _dense(prompt_cfg, masks):
    torch.manual_seed(0)
    encoder = MODELS.build(prompt_cfg)
    for module in encoder.mask_downscaling.modules():  # non-trivial norms
        if hasattr(module, 'bias') and module.bias is not None:
            nn.init.normal_(module.bias)
    return encoder(masks=masks)[1]


def test_mask_prompt_reaches_the_dense_embedding():
    """Different mask prompts (previous predictions fed back) must give
    different dense embeddings. Issue #5: with ``mask_in_channels=4`` the
    downscaling normalised a single channel (LayerNorm2d), so every mask,
    logits, probabilities or the ground truth, gave the same embedding."""
    masks = torch.full((3, 1, 16, 16), -8.)
    masks[1, :, 4:12, 4:12] = 8.
    masks[2, :, 0:6, 8:16] = 8.
    dense = _dense(TINY_PROMPT, masks)
    assert not torch.allclose(dense[0], dense[1], atol=1e-3)
    assert not torch.allclose(dense[1], dense[2], atol=1e-3)


def test_demo_config_mask_prompt_is_not_erased():
    """The SyncSAM CT demo's prompt encoder, as configured, passes the mask
    prompt on (it erased it before issue #5 was fixed)."""
    cfg = Config.fromfile(str(
        REPO / 'configs/demo/syncsam-tiny_ct-demo.py')).model.prompt_encoder
    side = cfg.image_embedding_size * 4
    masks = torch.full((2, 1, side, side), -8.)
    masks[1, :, side // 4:side // 2, side // 4:side // 2] = 8.
    dense = _dense(cfg.to_dict(), masks)
    assert not torch.allclose(dense[0], dense[1], atol=1e-3)


def test_mask_downscaling_of_one_channel_is_refused():
    with pytest.raises(ValueError, match='mask_in_channels must be'):
        MODELS.build(dict(TINY_PROMPT, mask_in_channels=4))


def test_error_clicks_are_x_y_in_the_input_frame():
    """``(x, y)`` = (column, row): a false-negative bar that is wide and
    flat (rows 1, columns 3..6) only admits clicks with y == 1."""
    gt = torch.zeros(1, 8, 8, dtype=torch.bool)
    gt[0, 1, 3:7] = True
    coords, labels = sample_error_clicks(
        torch.zeros_like(gt), gt, 30,
        generator=torch.Generator().manual_seed(0))
    assert (coords[0, :, 1] == 1).all()
    assert set(coords[0, :, 0].tolist()) == {3., 4., 5., 6.}
    assert (labels == 1).all()
