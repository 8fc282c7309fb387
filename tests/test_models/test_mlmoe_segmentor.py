# Copyright (c) mmpathseg contributors. All rights reserved.
"""TextGuidedSegmentor: training step, text modes, and the text-absent
(virtual prompt + adapter) distillation stage."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

from mmpathseg.registry import MODELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_text_models import (TEXT_DIM, fake_batch, tiny_head,  # noqa: E402
                              tiny_segmentor, write_tokenizer)


@pytest.fixture(scope='module')
def tok_dir(tmp_path_factory):
    return write_tokenizer(tmp_path_factory.mktemp('tok'))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpathseg')


def _build(tok_dir, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_segmentor(tok_dir, **kwargs))
    model.init_weights()
    return model


def test_train_step_losses_and_gradients(tok_dir):
    model = _build(tok_dir)
    inputs, samples = fake_batch()
    losses = model.loss(inputs, samples)
    assert {'loss_dice', 'loss_ce', 'loss_div'} <= set(losses)
    assert {'gate_tau_0', 'gate_tau_1', 'gate_tau_2'} <= set(losses)
    total, _ = model.parse_losses(losses)
    total.backward()
    # Everything but the frozen text encoder trains.
    for name, p in model.named_parameters():
        if name.startswith('text_encoder.'):
            assert not p.requires_grad
        else:
            assert p.grad is not None, name
    assert model.decode_head.guides['0'].text_projection.gate.log_tau.grad \
        is not None


def test_predict_modes(tok_dir):
    model = _build(tok_dir, virtual_prompt=dict(
        type='VirtualPrompt', length=8, embed_dims=TEXT_DIM))
    model.eval()
    inputs, samples = fake_batch()
    results = {}
    for mode in ('text', 'none', 'fixed', 'virtual'):
        model.test_cfg.text_mode = mode
        out = model.predict(inputs, [s.clone() for s in samples])
        assert out[0].pred_sem_seg.data.shape == (1, 64, 64)
        assert set(out[0].pred_sem_seg.data.unique().tolist()) <= {0, 1}
        results[mode] = out[0].seg_logits.data
    for a, b in [('text', 'none'), ('text', 'fixed'), ('text', 'virtual'),
                 ('fixed', 'virtual')]:
        assert not torch.allclose(results[a], results[b]), (a, b)
    # The fixed sentence is the same for every sample: a batch of two
    # equal images gives equal outputs despite different reports.
    model.test_cfg.text_mode = 'fixed'
    same = inputs[:1].repeat(2, 1, 1, 1)
    out = model.predict(same, [s.clone() for s in samples])
    torch.testing.assert_close(out[0].seg_logits.data,
                               out[1].seg_logits.data)
    model.test_cfg.text_mode = 'text'
    out = model.predict(same, [s.clone() for s in samples])
    assert not torch.allclose(out[0].seg_logits.data, out[1].seg_logits.data)


def test_samples_without_text(tok_dir):
    inputs, samples = fake_batch(texts=['one infected area', None])
    # No prompt: the empty sentence stands in (missing_text='auto').
    model = _build(tok_dir)
    model.eval()
    feats, mask = model.encode_text([s.metainfo for s in samples],
                                    model.test_cfg)
    assert mask[1].sum() == 2  # [CLS] [SEP]
    model.test_cfg.missing_text = 'error'
    with pytest.raises(ValueError, match='no text'):
        model.predict(inputs, samples)
    # With a prompt, the missing row is the prompt.
    model = _build(tok_dir, virtual_prompt=dict(
        type='VirtualPrompt', length=8, embed_dims=TEXT_DIM))
    feats, mask = model.encode_text([s.metainfo for s in samples],
                                    model.test_cfg)
    torch.testing.assert_close(feats[1], model.virtual_prompt.prompt)
    assert mask[1].sum() == 8


def test_config_errors(tok_dir):
    with pytest.raises(ValueError, match='virtual prompt'):
        _build(tok_dir, test_cfg=dict(text_mode='virtual'))
    with pytest.raises(ValueError, match='text_mode must be'):
        _build(tok_dir, test_cfg=dict(text_mode='nope'))
    with pytest.raises(ValueError, match='unknown train_cfg'):
        _build(tok_dir, train_cfg=dict(mode='text'))
    with pytest.raises(ValueError, match='needs a text_encoder'):
        _build(tok_dir, text_encoder=None)
    with pytest.raises(ValueError, match='matches no parameter'):
        _build(tok_dir, trainable=('virtual_promt', ))


def _stage2(tok_dir, **kwargs):
    cfg = dict(
        virtual_prompt=dict(type='VirtualPrompt', length=8,
                            embed_dims=TEXT_DIM),
        distill_loss=dict(type='FeatureDistillLoss'),
        trainable=('virtual_prompt', 'decode_head.adapters'),
        train_cfg=dict(text_mode='virtual', with_diversity=False),
        test_cfg=dict(text_mode='virtual'))
    cfg.update(kwargs)
    cfg['decode_head'] = tiny_head(
        moe=True, adapter=dict(type='BottleneckAdapter', ratio=0.25))
    return _build(tok_dir, **cfg)


def test_distillation_stage_trains_only_prompt_and_adapters(tok_dir):
    model = _stage2(tok_dir)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(
        n == 'virtual_prompt.prompt' or n.startswith('decode_head.adapters.')
        for n in trainable)
    model.train()
    assert not model.backbone.training
    assert not model.decode_head.ups[0].conv1[1].training  # BN frozen
    assert model.decode_head.adapters['0'].training
    frozen = {
        n: p.detach().clone()
        for n, p in model.named_parameters() if not p.requires_grad
    }
    bn = model.decode_head.ups[0].conv1[1]
    running = bn.running_mean.clone()
    optim = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    inputs, samples = fake_batch()
    # Step 1: the adapters' up-projections start at zero, so only the
    # prompt and the adapters' up layers receive gradients.
    losses = model.loss(inputs, samples)
    assert {'loss_dice', 'loss_ce', 'loss_distill'} <= set(losses)
    assert 'loss_div' not in losses
    assert losses['loss_distill'] > 0
    total, _ = model.parse_losses(losses)
    total.backward()
    with_grad = {
        n for n, p in model.named_parameters()
        if p.grad is not None and p.grad.abs().sum() > 0
    }
    assert 'virtual_prompt.prompt' in with_grad
    assert with_grad <= trainable
    optim.step()
    optim.zero_grad()
    # Step 2: now every trainable parameter gets a gradient.
    total, _ = model.parse_losses(model.loss(inputs, samples))
    total.backward()
    with_grad = {n for n, p in model.named_parameters()
                 if p.grad is not None}
    assert with_grad == trainable
    optim.step()
    for n, p in model.named_parameters():
        if n in frozen:
            torch.testing.assert_close(p, frozen[n], msg=n)
    torch.testing.assert_close(bn.running_mean, running)


def test_distillation_teacher_uses_real_text_without_adapter(tok_dir):
    model = _stage2(tok_dir)
    model.eval()
    inputs, samples = fake_batch()
    feats = model.extract_feat(inputs)
    metas = [s.metainfo for s in samples]
    text, mask = model.encode_text(metas, model.test_cfg.__class__(
        model.train_cfg, text_mode='text', missing_text='empty'))
    teacher = model.decode_head(feats, text, mask, use_adapter=False)
    # Adapters start as the identity: with the real text the student (with
    # adapters) equals the teacher exactly.
    student = model.decode_head(feats, text, mask, use_adapter=True)
    for s, t in zip(student['fused'], teacher['fused']):
        torch.testing.assert_close(s, t)


def test_output_shapes_and_tensor_mode(tok_dir):
    model = _build(tok_dir, test_cfg=dict(output_shape='ori_shape'))
    model.eval()
    inputs, samples = fake_batch()
    # The padded input is 64 x 64, the resized image 48 x 56, the original
    # 96 x 112: the prediction is cropped, then resized back.
    for s in samples:
        s.set_metainfo(dict(img_shape=(48, 56), ori_shape=(96, 112)))
    out = model.predict(inputs, samples)
    assert out[0].pred_sem_seg.data.shape == (1, 96, 112)
    model.test_cfg.output_shape = 'img_shape'
    out = model.predict(inputs, samples)
    assert out[0].seg_logits.data.shape == (1, 48, 56)
    assert model._forward(inputs, samples).shape == (2, 1, 64, 64)
    with pytest.raises(ValueError, match='output_shape'):
        _build(tok_dir, test_cfg=dict(output_shape='pad_shape'))
