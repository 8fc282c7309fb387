# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiny SyncSAM / SAM through the promptable segmentor: forward, backward,
interactive loop, frozen parts stay frozen, prediction at the original
size."""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmpathseg.registry import MODELS
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'data'))
from tiny_promptable import tiny_batch, tiny_sam, tiny_syncsam  # noqa: E402

init_default_scope('mmpathseg')


def _build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_train_step_updates_cnn_and_keeps_sam_frozen():
    model = _build(tiny_syncsam(num_rounds=2, clicks_per_round=(1, 2)))
    enc = model.image_encoder
    assert enc.frozen_vit
    frozen = {n: p.detach().clone() for n, p in model.named_parameters()
              if not p.requires_grad}
    # SAM's ViT (incl. neck) and the decoder's transformer/upscaling.
    assert any(n.startswith('image_encoder.vit.neck') for n in frozen)
    assert any(n.startswith('mask_decoder.transformer') for n in frozen)
    assert not any(n.startswith('image_encoder.cnn') for n in frozen)
    trainable = {n: p.detach().clone() for n, p in model.named_parameters()
                 if p.requires_grad}
    optim = build_optim_wrapper(
        model, dict(optimizer=dict(type='Adam', lr=1e-3)))
    model.train()
    log = model.train_step(tiny_batch(), optim)
    assert set(log) >= {'loss', 'loss_dice', 'loss_focal'}
    assert torch.isfinite(log['loss'])
    for name, param in model.named_parameters():
        if name in frozen:
            assert torch.equal(param, frozen[name]), name
    changed = [n for n, p in model.named_parameters()
               if n in trainable and not torch.equal(p, trainable[n])]
    for prefix in ('image_encoder.cnn', 'image_encoder.projections',
                   'image_encoder.multi_scale', 'mask_decoder.med_token',
                   'mask_decoder.hf_mlp'):
        assert any(n.startswith(prefix) for n in changed), prefix


def test_gradient_reaches_cnn_through_frozen_vit():
    model = _build(tiny_syncsam(num_rounds=0))
    batch = model.data_preprocessor(tiny_batch(), True)
    losses = model.loss(**batch)
    sum(losses.values()).backward()
    grad = model.image_encoder.cnn.conv1.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.image_encoder.vit.blocks[0].attn.qkv.weight.grad is None


def test_loss_uses_the_configured_weights():
    model = _build(tiny_syncsam(num_rounds=0, first_prompt=dict(box=1.0)))
    batch = model.data_preprocessor(tiny_batch(), True)
    torch.manual_seed(1)
    losses = model.loss(**copy.deepcopy(batch))
    model.mask_decoder.loss_decode[0].loss_weight = 40.0
    torch.manual_seed(1)
    doubled = model.loss(**batch)
    torch.testing.assert_close(doubled['loss_dice'], 2 * losses['loss_dice'])


def test_predict_gives_every_mode_at_original_size():
    model = _build(tiny_syncsam())
    model.eval()
    batch = tiny_batch()
    with torch.no_grad():
        samples = model.test_step(batch)
    for sample in samples:
        for mode in ('box', '1pt', '5pt'):
            masks = sample.get(f'pred_masks_{mode}')
            assert masks.dtype == torch.bool
            assert tuple(masks.shape) == (3, 128, 128)
    # Seeded clicks: the same predictions again.
    with torch.no_grad():
        again = model.test_step(tiny_batch())
    assert torch.equal(again[0].pred_masks_5pt, samples[0].pred_masks_5pt)


@pytest.mark.parametrize('fusion', ['single', 'none'])
def test_fusion_variants_train(fusion):
    cfg = tiny_syncsam(fusion=fusion, num_rounds=1)
    if fusion == 'none':
        cfg['image_encoder'].pop('cnn')
        cfg['image_encoder'].pop('cnn_channels')
    model = _build(cfg)
    batch = model.data_preprocessor(tiny_batch(), True)
    losses = model.loss(**batch)
    sum(losses.values()).backward()


def test_sam_decoder_with_iou_loss_and_multimask():
    model = _build(tiny_sam(decoder=dict(multimask_output=True)))
    batch = model.data_preprocessor(tiny_batch(), True)
    losses = model.loss(**batch)
    assert set(losses) == {'loss_focal', 'loss_dice', 'loss_iou'}
    sum(losses.values()).backward()
    assert model.mask_decoder.iou_prediction_head.layers[0].weight.grad \
        is not None


def test_zero_shot_sam_has_nothing_to_train():
    cfg = tiny_sam(decoder=dict(frozen=True))
    cfg['prompt_encoder'] = dict(cfg['prompt_encoder'], frozen=True)
    model = _build(cfg)
    assert not any(p.requires_grad for p in model.parameters())


def test_bad_train_cfg():
    with pytest.raises(ValueError, match='unknown train_cfg keys'):
        _build(tiny_syncsam(rounds=3))
    with pytest.raises(ValueError, match='first_prompt'):
        _build(tiny_syncsam(first_prompt=dict(text=1.0)))


def test_accumulated_points_and_logit_mask_prompts():
    """IMIS-style loop: clicks accumulate, logits fed back, summed rounds."""
    model = _build(tiny_syncsam(
        num_rounds=3, clicks_per_round=(2, ), accumulate_points=True,
        mask_prompt='logits', mask_only_rounds=False,
        round_reduction='sum', first_prompt=dict(point=1.0)))
    seen = []
    original = model.prompt_encoder.forward

    def spy(points=None, boxes=None, masks=None, num=None):
        seen.append((None if points is None else points[0].shape[1],
                     boxes is not None, masks is not None))
        return original(points=points, boxes=boxes, masks=masks, num=num)

    model.prompt_encoder.forward = spy
    batch = model.data_preprocessor(tiny_batch(), True)
    losses = model.loss(**batch)
    # The GT point, then it and 2, 4, 6 accumulated clicks with the mask
    # fed back, as the test's sequential clicks (issue #5: the GT point was
    # dropped in training, so rounds saw 2, 4, 6 points).
    assert seen == [(1, False, False), (3, False, True), (5, False, True),
                    (7, False, True)]
    sum(losses.values()).backward()


def test_test_clicks_accumulate_and_feed_back_the_previous_logits():
    """Round k of the test loop gets the first point and the k - 1 error
    clicks so far (labels kept) and round k - 1's logits as mask prompt;
    ``pred_masks_<k>pt`` is round k's output."""
    model = _build(tiny_syncsam())
    model.test_cfg.points = (1, 2, 3)
    model.test_cfg.mask_prompt = 'logits'
    model.eval()
    prompts, outputs = [], []
    encode, decode = model.prompt_encoder.forward, model.mask_decoder.forward

    def spy_encode(points=None, boxes=None, masks=None, num=None):
        prompts.append((points, boxes, masks))
        return encode(points=points, boxes=boxes, masks=masks, num=num)

    def spy_decode(*args):
        outputs.append(decode(*args))
        return outputs[-1]

    model.prompt_encoder.forward = spy_encode
    model.mask_decoder.forward = spy_decode
    data = model.data_preprocessor(tiny_batch(), False)
    with torch.no_grad():
        samples = model.predict(**data)
    box, *clicks = prompts
    assert box[0] is None and box[1] is not None and box[2] is None
    first = data['data_samples'][0].gt_points[0]  # (1, 2)
    for k, (points, boxes, masks) in enumerate(clicks, start=1):
        assert boxes is None and points[0].shape[1] == k
        torch.testing.assert_close(points[0][0, :1], first)
        assert (points[1][:, 0] == 1).all()
        if k == 1:
            assert masks is None
            continue
        # all earlier clicks are kept, unchanged, with their labels
        torch.testing.assert_close(points[0][:, :k - 1], clicks[k - 2][0][0])
        assert torch.equal(points[1][:, :k - 1], clicks[k - 2][0][1])
        torch.testing.assert_close(masks, outputs[k - 1][0])  # round k - 1
    size = tuple(data['inputs'].shape[-2:])
    batch = model._gather(data['inputs'], data['data_samples'])
    for k in (1, 2, 3):
        expected = model._restore(outputs[k][0], batch, size,
                                  data['data_samples'])
        for sample, mask in zip(samples, expected):
            assert torch.equal(sample.get(f'pred_masks_{k}pt'), mask)


@pytest.mark.parametrize('first,accumulate,expected', [
    ('point', True, [(1, False), (2, False), (3, False)]),
    ('box', True, [(None, True), (1, True), (2, True)]),
    ('point', False, [(1, False), (1, False), (1, False)]),
])
def test_training_rounds_keep_the_first_prompt_when_accumulating(
        first, accumulate, expected):
    """With ``accumulate_points`` every round gets the first prompt (GT point
    or box) and all clicks so far; without, the fresh clicks only."""
    model = _build(tiny_syncsam(
        num_rounds=2, clicks_per_round=(1, ), mask_only_rounds=False,
        accumulate_points=accumulate, first_prompt={first: 1.0}))
    seen, coords = [], []
    original = model.prompt_encoder.forward

    def spy(points=None, boxes=None, masks=None, num=None):
        seen.append((None if points is None else points[0].shape[1],
                     boxes is not None))
        coords.append(None if points is None else points[0])
        return original(points=points, boxes=boxes, masks=masks, num=num)

    model.prompt_encoder.forward = spy
    batch = model.data_preprocessor(tiny_batch(), True)
    model.loss(**batch)
    assert seen == expected
    if first == 'point' and accumulate:
        gt_point = batch['data_samples'][0].gt_points[0]
        torch.testing.assert_close(coords[2][0, :1], gt_point)
        torch.testing.assert_close(coords[2][:, :2], coords[1])


def test_test_clicks_of_an_image_do_not_depend_on_its_batch():
    """Each image draws its error clicks from its own generator (seed +
    ``sample_idx``), so it gets the same clicks, and predictions, tested
    alone or next to another image (any batch size, order or rank)."""
    model = _build(tiny_syncsam())
    model.eval()
    pair = tiny_batch(num_images=2)
    alone = dict(inputs=pair['inputs'][1:],
                 data_samples=copy.deepcopy(pair['data_samples'][1:]))
    with torch.no_grad():
        together = model.test_step(pair)[1]
        single = model.test_step(alone)[0]
    assert torch.equal(together.pred_masks_1pt, single.pred_masks_1pt)
    assert torch.equal(together.pred_masks_5pt, single.pred_masks_5pt)
