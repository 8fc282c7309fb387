# Copyright (c) mmpathseg contributors. All rights reserved.
"""Official-layout SAM checkpoints load into PromptableSegmentor and give
SAM's own predictions; SAM-Med2D-style files with pickled optimisers load
without unpickling anything but tensors."""
import os
import sys
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope

from mmpathseg.registry import MODELS
from tools.model_converters.sam2promptable import (convert,
                                                   load_tensors_only, main)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_promptable import tiny_sam  # noqa: E402

init_default_scope('mmpathseg')
modeling = pytest.importorskip('segment_anything.modeling')


def _official_tiny_sam(img_size=64):
    torch.manual_seed(0)
    sam = modeling.Sam(
        image_encoder=modeling.ImageEncoderViT(
            img_size=img_size, patch_size=16, embed_dim=32, depth=8,
            num_heads=2, mlp_ratio=4, out_chans=32, qkv_bias=True,
            norm_layer=partial(nn.LayerNorm, eps=1e-6), use_rel_pos=True,
            window_size=2, global_attn_indexes=(1, 3, 5, 7)),
        prompt_encoder=modeling.PromptEncoder(
            embed_dim=32, image_embedding_size=(img_size // 16, ) * 2,
            input_image_size=(img_size, ) * 2, mask_in_chans=8),
        mask_decoder=modeling.MaskDecoder(
            transformer_dim=32,
            transformer=modeling.TwoWayTransformer(
                depth=1, embedding_dim=32, num_heads=2, mlp_dim=64),
            iou_head_hidden_dim=32),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375])
    for name, param in sam.named_parameters():  # no zero tables
        if 'rel_pos' in name or 'embed' in name:
            nn.init.normal_(param, std=0.2)
    return sam.eval()


class _Evil:
    def __reduce__(self):
        return os.system, (f'touch {self.path}', )


def test_official_checkpoint_gives_sams_predictions(tmp_path):
    sam = _official_tiny_sam()
    path = tmp_path / 'sam.pth'
    torch.save(sam.state_dict(), path)
    ours = MODELS.build(tiny_sam(decoder=dict(multimask_output=False)))
    missing = ours.load_state_dict(
        convert(load_tensors_only(str(path)), img_size=64), strict=True)
    assert not missing.missing_keys
    ours.eval()
    image = torch.randint(0, 255, (3, 48, 64), dtype=torch.uint8)
    box = torch.tensor([[5., 8., 40., 30.]])
    with torch.no_grad():
        ref = sam([dict(image=image.float(), boxes=box,
                        original_size=(48, 64))], multimask_output=False)
        # SAM's preprocess: normalise, then pad bottom-right.
        inputs = (image.float() - sam.pixel_mean) / sam.pixel_std
        inputs = torch.nn.functional.pad(inputs, (0, 0, 0, 16))[None]
        feats = ours.extract_feat(inputs)
        logits, iou = ours.decode(feats[0], None, boxes=box)
    torch.testing.assert_close(logits, ref[0]['low_res_logits'])
    torch.testing.assert_close(iou, ref[0]['iou_predictions'])


def test_pickled_optimizer_is_dropped_and_no_code_runs(tmp_path):
    sam = _official_tiny_sam()
    optimizer = torch.optim.Adam(sam.parameters())
    evil = _Evil()
    evil.path = str(tmp_path / 'pwned')
    path = tmp_path / 'sam-med2d.pth'
    torch.save(dict(model={'module.' + k: v
                           for k, v in sam.state_dict().items()},
                    optimizer=optimizer, payload=evil, epoch=3), path)
    state = load_tensors_only(str(path))
    assert not (tmp_path / 'pwned').exists()
    assert set(state) == set(sam.state_dict())
    out = tmp_path / 'out.pth'
    assert main([str(path), str(out), '--target', 'syncsam',
                 '--img-size', '64']) == 0
    converted = torch.load(out, weights_only=True)
    assert 'mask_decoder.iou_prediction_head.layers.0.weight' not in \
        converted
    assert 'image_encoder.vit.blocks.0.attn.qkv.weight' in converted


def test_tables_resampled_for_256(tmp_path):
    sam = _official_tiny_sam(img_size=128)  # 8 x 8 grid
    state = convert(sam.state_dict(), img_size=64)  # -> 4 x 4
    assert state['image_encoder.vit.pos_embed'].shape == (1, 4, 4, 32)
    # global blocks 15 -> 7 entries, windowed blocks (window 2) keep 3
    assert state['image_encoder.vit.blocks.1.attn.rel_pos_h'].shape[0] == 7
    assert state['image_encoder.vit.blocks.0.attn.rel_pos_h'].shape[0] == 3
    ours = MODELS.build(tiny_sam())
    ours.load_state_dict(state, strict=True)
