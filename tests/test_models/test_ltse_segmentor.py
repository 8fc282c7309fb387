# Copyright (c) mmpathseg contributors. All rights reserved.
"""The referring segmentor (LISA / GSVA / LTSE layouts) on tiny random
models: losses, trainable parts, both inference paths, save and reload."""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmpathseg.datasets import ReferringSegDataset
from mmpathseg.evaluation.metrics import ReferringMetric
from mmpathseg.registry import MODELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
import tiny_referring as tiny  # noqa: E402
from tools.misc import generate_tissue_ref_demo_data as demo  # noqa: E402


def _pipeline(tok):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadReferringAnnotations'),
        dict(type='BuildReferringConversation', tokenizer=tok,
             num_image_tokens=tiny.NUM_IMAGE_TOKENS, system='a chat'),
        dict(type='PackReferringInputs'),
    ]


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('trd')
    demo.write_dataset(str(root), 2, 1, 48, seed=0)
    return root


def _batch(root, tok, indexes, split_targets=False):
    init_default_scope('mmpathseg')
    ds = ReferringSegDataset(
        data_root=str(root), ann_file='annotations/train.json',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        pipeline=_pipeline(tok), split_targets=split_targets)
    return pseudo_collate([ds[i] for i in indexes])


@pytest.fixture(scope='module')
def ltse():
    init_default_scope('mmpathseg')
    torch.manual_seed(0)
    return MODELS.build(tiny.model_cfg(decoder='aem'))


def test_ltse_loss_and_trainable_parts(ltse, demo_root):
    # refs 1 (multi), 2 (empty) and 3 (mixed: one [SEG], one [REJ])
    data = ltse.data_preprocessor(
        _batch(demo_root, tiny.tokenizer(), [1, 2, 3]), True)
    losses = ltse(**data, mode='loss')
    assert set(losses) >= {'loss_ce', 'loss_bce', 'loss_dice'}
    assert all(torch.isfinite(v) for v in losses.values())
    usage = torch.stack([losses[f'expert{i}_usage'] for i in range(4)])
    assert torch.isclose(usage.sum(), torch.tensor(2.0))  # top-2 of 4
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    grads = {n for n, p in ltse.named_parameters() if p.grad is not None}
    assert not any(n.startswith(('image_encoder.', 'prompt_encoder.'))
                   for n in grads)
    assert any(n.startswith('mask_decoder.gate.') for n in grads)
    assert any('lora_A' in n for n in grads)
    assert any(n.startswith('mllm.projector.') for n in grads)
    assert not any('vision_tower' in n for n in grads)
    ltse.zero_grad()


def test_rejected_targets_are_left_out_of_mask_losses(ltse, demo_root):
    # ref 2 is a single empty target: nothing to decode, mask losses are 0
    data = ltse.data_preprocessor(
        _batch(demo_root, tiny.tokenizer(), [2]), True)
    losses = ltse(**data, mode='loss')
    assert losses['loss_bce'] == 0 and losses['loss_dice'] == 0
    assert losses['loss_ce'] > 0


def test_teacher_forced_predictions_and_metric(ltse, demo_root):
    ltse.eval()
    data = ltse.data_preprocessor(
        _batch(demo_root, tiny.tokenizer(), [0, 1, 2, 3, 4]), False)
    with torch.no_grad():
        out = ltse(**data, mode='predict')
    for sample in out:
        n = len(sample.gt_empty)
        assert sample.pred_masks.shape == sample.gt_masks.shape
        assert sample.pred_rejected.shape == (n, )
    metric = ReferringMetric()
    metric.process({}, [s.to_dict() for s in out])
    res = metric.compute_metrics(metric.results)
    assert 0 <= res['gIoU'] <= 100 and res['num_targets'] == 8
    ltse.train()


def test_generate_path_rejects_without_mask(ltse, demo_root, monkeypatch):
    ltse.eval()
    ltse.test_cfg['mode'] = 'generate'
    data = ltse.data_preprocessor(
        _batch(demo_root, tiny.tokenizer(), [3]), False)  # mixed ref
    sample = data['data_samples'][0]
    tok = ltse.mllm.tokenizer
    answer = tok.encode(' sure , a : [SEG] , b : [REJ] .',
                        add_special_tokens=False) + [tok.eos_token_id]
    prompt = sample.input_ids[:sample.prompt_length]
    fixed = torch.cat([prompt, torch.tensor(answer)])[None]
    monkeypatch.setattr(ltse.mllm, 'generate', lambda *a, **k: fixed)
    with torch.no_grad():
        out = ltse(**data, mode='predict')[0]
    assert out.pred_rejected.tolist() == [False, True]
    assert not out.pred_masks[1].any()  # a rejected target has no mask
    assert out.num_generated_slots == 2
    assert '[REJ]' in out.pred_text
    # a generation with fewer slots than targets: the rest is rejected
    short = torch.cat([prompt, torch.tensor(answer[:5])])[None]
    monkeypatch.setattr(ltse.mllm, 'generate', lambda *a, **k: short)
    with torch.no_grad():
        out = ltse(**data, mode='predict')[0]
    assert out.pred_rejected.tolist() == [False, True]
    monkeypatch.undo()
    with torch.no_grad():  # the real greedy generation runs end to end
        out = ltse(**data, mode='predict')[0]
    assert out.pred_masks.shape == out.gt_masks.shape
    ltse.test_cfg['mode'] = 'teacher_forced'
    ltse.train()


def test_lisa_and_gsva_layouts(demo_root):
    init_default_scope('mmpathseg')
    torch.manual_seed(0)
    lisa_tok = tiny.tokenizer(1, False)
    lisa = MODELS.build(tiny.model_cfg(tok=lisa_tok, decoder='single'))
    assert lisa.mllm.rej_id is None and not lisa.use_rej
    data = lisa.data_preprocessor(
        _batch(demo_root, lisa_tok, [0, 1, 2], split_targets=True), True)
    losses = lisa(**data, mode='loss')
    # without [REJ] the empty target is a [SEG] with an all-zero mask
    assert losses['loss_bce'] > 0 and 'expert0_usage' not in losses
    lisa.eval()
    with torch.no_grad():
        out = lisa(**data, mode='predict')
    assert not any(s.pred_rejected.any() for s in out)
    with pytest.raises(ValueError, match='test_cfg.mode'):
        MODELS.build(tiny.model_cfg(mode='beam'))


def test_saved_and_reloaded_model_predicts_the_same(demo_root, tmp_path):
    init_default_scope('mmpathseg')
    torch.manual_seed(0)
    cfg = tiny.model_cfg(decoder='aem')
    model = MODELS.build(copy.deepcopy(cfg))
    opt = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-2)
    batch = _batch(demo_root, tiny.tokenizer(), [1, 3])
    for _ in range(1):
        losses = model(**model.data_preprocessor(batch, True), mode='loss')
        opt.zero_grad()
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        opt.step()
    path = tmp_path / 'tiny.pth'
    torch.save(model.state_dict(), path)
    torch.manual_seed(123)
    other = MODELS.build(copy.deepcopy(cfg))
    other.load_state_dict(torch.load(path, weights_only=True))
    model.eval()
    other.eval()
    with torch.no_grad():
        a = model(**model.data_preprocessor(batch, False), mode='predict')
        b = other(**other.data_preprocessor(batch, False), mode='predict')
    for x, y in zip(a, b):
        assert torch.equal(x.pred_masks, y.pred_masks)
        assert torch.equal(x.pred_rejected, y.pred_rejected)
        assert torch.allclose(x.pred_logits_max, y.pred_logits_max)


def test_demo_options_unfreeze_the_random_parts():
    init_default_scope('mmpathseg')
    cfg = tiny.model_cfg(decoder='single')
    cfg['train_image_encoder'] = True
    cfg['mllm'].update(train_mm_projector=True, train_vision_tower=True)
    model = MODELS.build(cfg)
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    assert all(v for n, v in flags.items() if n.startswith('image_encoder.'))
    assert not any(v for n, v in flags.items()
                   if n.startswith('prompt_encoder.'))
    assert all(v for n, v in flags.items() if 'multi_modal_projector' in n)
    assert all(v for n, v in flags.items() if 'vision_tower' in n)
    # the base language model weights stay frozen (LoRA only)
    assert not any(v for n, v in flags.items()
                   if 'language_model' in n and 'q_proj.base_layer' in n)


def test_train_language_model_unfreezes_the_llm_not_peft_copies():
    init_default_scope('mmpathseg')
    cfg = tiny.model_cfg(decoder='single')
    cfg['mllm'].update(train_language_model=True)
    model = MODELS.build(cfg)
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    lm = {n: v for n, v in flags.items() if 'language_model' in n}
    frozen = sorted(n for n, v in lm.items() if not v)
    # only peft's unused copies of embed_tokens / lm_head stay frozen
    assert frozen and all('original_module' in n for n in frozen)
    assert lm[next(n for n in lm if 'k_proj' in n)]
    assert lm[next(n for n in lm if 'mlp.down_proj' in n)]
    assert any('lora_A' in n for n in lm)
    # the vision side is untouched by this option
    assert not any(v for n, v in flags.items() if 'vision_tower' in n)


def test_slot_loss_is_class_balanced_ce_on_slots(ltse, demo_root):
    seg, rej = ltse.mllm.seg_ids[0], ltse.mllm.rej_id
    vocab = 3 + max(seg, rej)
    logits = torch.randn(1, 6, vocab)
    # slots at 2 ([SEG]), 3 ([SEG]) and 5 ([REJ]); 4 is a plain token
    labels = torch.tensor([[-100, -100, seg, seg, 1, rej]])
    ce = torch.nn.functional.cross_entropy
    want_seg = ce(logits[0, [1, 2]], torch.tensor([seg, seg]))
    want_rej = ce(logits[0, [4]], torch.tensor([rej]))
    got = ltse.slot_loss(logits, labels)
    assert torch.isclose(got, (want_seg + want_rej) / 2)
    # one class only: its mean; no slot labelled: 0
    assert torch.isclose(
        ltse.slot_loss(logits, labels.where(labels != rej, -100)), want_seg)
    assert ltse.slot_loss(logits, torch.full_like(labels, -100)) == 0
    # the term is logged only when its weight is set
    data = ltse.data_preprocessor(
        _batch(demo_root, tiny.tokenizer(), [3]), True)
    assert 'loss_slot' not in ltse(**data, mode='loss')
    ltse.loss_weights['slot'] = 2.0
    try:
        losses = ltse(**data, mode='loss')
    finally:
        ltse.loss_weights['slot'] = 0.0
    assert losses['loss_slot'] > 0


def test_slot_accuracy_by_hand(ltse, demo_root):
    seg, rej = ltse.mllm.seg_ids[0], ltse.mllm.rej_id
    vocab = 3 + max(seg, rej)
    # two sequences: [SEG] at 2 and [REJ] at 4; [REJ] at 3
    ids = torch.tensor([[1, 1, seg, 1, rej], [1, 1, 1, rej, 1]])
    logits = torch.zeros(2, 5, vocab)
    logits[0, 1, seg] = 2.0  # predicts [SEG] at 2: accepted, margin +2
    logits[0, 3, seg] = 1.0  # predicts [SEG] at 4 ([REJ]): margin -1
    logits[1, 2, rej] = 3.0  # predicts [REJ] at 3: rejected, margin +3
    acc = ltse.slot_accuracy(logits, ids)
    assert acc['slot_acc_seg'] == 1.0
    assert torch.isclose(acc['slot_acc_rej'], torch.tensor(0.5))
    assert torch.isclose(acc['slot_margin'], torch.tensor(4 / 3))
    # a batch with [SEG] slots only has no N-Acc entry
    assert 'slot_acc_rej' not in ltse.slot_accuracy(logits[:1, :3],
                                                     ids[:1, :3])
    # logged with the losses (not summed: no "loss" in the keys)
    data = ltse.data_preprocessor(
        _batch(demo_root, tiny.tokenizer(), [3]), True)
    losses = ltse(**data, mode='loss')
    assert {'slot_acc_seg', 'slot_acc_rej', 'slot_margin'} <= set(losses)


def test_generation_never_emits_the_image_token(demo_root):
    """An untrained model may prefer the image token; generating it would
    break the re-forward (more image tokens than image features)."""
    init_default_scope('mmpathseg')
    torch.manual_seed(0)
    model = MODELS.build(tiny.model_cfg(decoder='single')).eval()
    data = model.data_preprocessor(
        _batch(demo_root, tiny.tokenizer(), [3]), False)
    sample = data['data_samples'][0]
    mllm = model.mllm
    prompt = sample.input_ids[:sample.prompt_length][None]
    clip = data['inputs']['clip'][:1]
    with torch.no_grad():
        last = mllm(clip, prompt, torch.ones_like(prompt))['hidden'][0, -1]
        head = mllm.base.get_output_embeddings()
        if hasattr(head, 'modules_to_save'):  # peft's trained copy
            head = head.modules_to_save['default']
        head.weight[mllm.image_token_id] = 50 * last / last.norm()
        logits = mllm(clip, prompt, torch.ones_like(prompt))['logits']
        assert logits[0, -1].argmax() == mllm.image_token_id
        seq = mllm.generate(clip, prompt, max_new_tokens=6)
    answer = seq[0, prompt.shape[1]:]
    assert len(answer) and not (answer == mllm.image_token_id).any()
    model.test_cfg['mode'] = 'generate'
    with torch.no_grad():  # the whole generate path runs
        out = model(**data, mode='predict')[0]
    assert out.pred_masks.shape == out.gt_masks.shape
