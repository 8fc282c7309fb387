# Copyright (c) mmpathseg contributors. All rights reserved.
"""[SEG]/[REJ] ids, hidden-state gathering against hand-built sequences,
teacher-forced rejections and the LoRA/trainable set of the tiny LLaVA."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

from mmpathseg.models.language import (build_referring_tokenizer,
                                       gather_slot_states, lookup_token_ids,
                                       predicted_rejections, seg_token_names,
                                       task_token_ids)
from mmpathseg.registry import MODELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
import tiny_referring as tiny  # noqa: E402


def test_token_ids_are_looked_up():
    shared = build_referring_tokenizer(tiny.tokenizer(10, True))
    ids = task_token_ids(shared, tiny.tokenizer(10, True))
    base = len(tiny.WORDS) + 5
    assert ids['seg'] == [base] and ids['rej'] == base + 1
    assert len(shared) == base + 2
    distinct_cfg = tiny.tokenizer(3, True, distinct=True)
    distinct = build_referring_tokenizer(distinct_cfg)
    ids = task_token_ids(distinct, distinct_cfg)
    assert ids['seg'] == [base, base + 1, base + 2]
    assert ids['rej'] == base + 3
    assert distinct.encode('tumor:[SEG1], necrosis:[REJ]',
                           add_special_tokens=False)[2] == base + 1
    lisa_cfg = tiny.tokenizer(1, False)
    assert task_token_ids(build_referring_tokenizer(lisa_cfg),
                          lisa_cfg)['rej'] is None
    assert seg_token_names(2, True) == ['[SEG0]', '[SEG1]']
    # a token the tokenizer splits (LISA#55) is refused, not mis-indexed
    with pytest.raises(ValueError, match='not a single token'):
        lookup_token_ids(shared, ['[SEG2]'])


def test_gather_against_hand_built_sequence():
    seg, rej, pad = 50, 51, 0
    input_ids = torch.tensor([
        [1, 7, 7, 9, seg, 9, rej, 9, seg, 2, pad, pad],
        [seg, 1, 9, seg, seg, 9, 2, pad, pad, pad, pad, pad],
    ])
    # hidden[b, t] = 100 * b + t in every channel
    hidden = (torch.arange(12)[None] + 100 * torch.arange(2)[:, None])
    hidden = hidden[..., None].float().expand(2, 12, 3)
    states, positions = gather_slot_states(hidden, input_ids, [seg])
    assert positions[0].tolist() == [4, 8]
    assert states[0][:, 0].tolist() == [3, 7]  # the states *before* [SEG]
    # position 0 has no predicting state and is skipped
    assert positions[1].tolist() == [3, 4]
    assert states[1][:, 0].tolist() == [102, 103]
    # distinct [SEG_k] tokens gather in sequence order
    states, _ = gather_slot_states(hidden, input_ids, [seg, rej])
    assert states[0][:, 0].tolist() == [3, 5, 7]


def test_teacher_forced_rejections_by_hand():
    seg, rej, other = 5, 6, 1
    input_ids = torch.tensor([[0, 2, seg, 3, rej, 3, seg, 4, rej]])
    logits = torch.zeros(1, 9, 8)
    logits[0, 1, seg] = 1  # before GT [SEG]: says [SEG] -> accepted
    logits[0, 3, rej] = 1  # before GT [REJ]: says [REJ] -> rejected
    logits[0, 5, other] = 1  # before GT [SEG]: says something else -> rej
    logits[0, 7, seg] = 1  # before GT [REJ]: says [SEG] -> accepted
    out = predicted_rejections(logits, input_ids, [seg], rej)
    assert out[0].tolist() == [False, True, True, False]


@pytest.fixture(scope='module')
def mllm():
    init_default_scope('mmpathseg')
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='LlavaSegMLLM', llava=tiny.LLAVA,
             tokenizer=tiny.tokenizer(10, True), out_channels=32))


def test_lora_touches_only_intended_modules(mllm):
    trainable = {n for n, p in mllm.named_parameters() if p.requires_grad}
    lora = {n for n in trainable if 'lora_' in n}
    assert len(lora) == 2 * 2 * 2  # 2 layers x (q, v) x (A, B)
    assert all('language_model' in n and ('q_proj' in n or 'v_proj' in n)
               for n in lora)
    others = trainable - lora
    assert others == {
        'llava.base_model.model.language_model.model.embed_tokens.'
        'modules_to_save.default.weight',
        'llava.base_model.model.language_model.lm_head.modules_to_save.'
        'default.weight', 'projector.0.weight', 'projector.0.bias',
        'projector.2.weight', 'projector.2.bias'
    }
    assert not any('vision_tower' in n or 'multi_modal_projector' in n
                   for n in trainable)
    # the resized vocabulary covers the task tokens
    vocab = len(mllm.tokenizer)
    assert mllm.base.get_input_embeddings().weight.shape[0] == vocab
    assert mllm.base.get_output_embeddings().weight.shape[0] == vocab
    assert mllm.num_image_tokens == tiny.NUM_IMAGE_TOKENS


def test_forward_backward_only_trainable_get_gradients(mllm):
    tok = mllm.tokenizer
    ids = [1] + [mllm.image_token_id] * 4 + tok.encode(
        'sure , tumor : [SEG] , necrosis : [REJ] .',
        add_special_tokens=False) + [2]
    input_ids = torch.tensor([ids, ids])
    labels = input_ids.clone()
    labels[:, :5] = -100
    out = mllm(torch.randn(2, 3, 28, 28), input_ids,
               torch.ones_like(input_ids), labels)
    assert out['hidden'].shape == (2, len(ids), 64)
    prompts = mllm.seg_prompts(out['hidden'], input_ids)
    assert [p.shape for p in prompts] == [(1, 32), (1, 32)]
    (out['loss'] + sum(p.sum() for p in prompts)).backward()
    for name, param in mllm.named_parameters():
        if param.requires_grad:
            assert param.grad is not None, name
        else:
            assert param.grad is None, name
    with pytest.raises(ValueError, match='image tokens'):
        mllm(torch.randn(1, 3, 28, 28), input_ids[:, 1:],
             torch.ones_like(input_ids[:, 1:]))
    mllm.zero_grad()


def test_missing_local_weights_are_named():
    init_default_scope('mmpathseg')
    with pytest.raises(FileNotFoundError, match='never downloaded'):
        MODELS.build(
            dict(type='LlavaSegMLLM', llava=dict(pretrained='no/such/dir'),
                 tokenizer=tiny.tokenizer()))
    with pytest.raises(FileNotFoundError, match='not downloaded'):
        build_referring_tokenizer(dict(pretrained='llava-hf/llava-1.5-7b'))
