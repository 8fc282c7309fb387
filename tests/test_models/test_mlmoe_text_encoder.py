# Copyright (c) mmpathseg contributors. All rights reserved.
"""The text encoder loads a BERT model and tokenizer from local folders, with
no network (a fake CXR-BERT checkpoint is written to tmp_path)."""
import os
import subprocess
import sys
from pathlib import Path

import torch
from mmengine.registry import init_default_scope

from mmpathseg.registry import MODELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_text_models import (TEXT_DIM, tiny_bert_config,  # noqa: E402
                              write_tokenizer)


def test_tokenizer_from_local_folder(tmp_path):
    init_default_scope('mmpathseg')
    tok_dir = write_tokenizer(tmp_path / 'tok')
    enc = MODELS.build(
        dict(
            type='BertTextEncoder',
            tokenizer=str(tok_dir),
            bert_config=tiny_bert_config(),
            max_length=8))
    ids, mask = enc.tokenize(['Bilateral pulmonary infection, xyz.', ''])
    vocab = (tok_dir / 'vocab.txt').read_text().split('\n')
    words = [vocab[i] for i in ids[0].tolist()]
    assert words == ['[CLS]', 'bilateral', 'pulmonary', 'infection', ',',
                     '[UNK]', '.', '[SEP]']
    assert mask[0].tolist() == [1] * 8
    assert ids[1].tolist()[:3] == [2, 3, 0] and mask[1].sum() == 2
    feats, mask = enc(['one infected area', 'two infected areas'])
    assert feats.shape == (2, 8, TEXT_DIM) and mask.shape == (2, 8)
    assert enc.embed_dims == TEXT_DIM


def test_fake_cxr_bert_checkpoint_loads_as_bert_model(tmp_path):
    """CXR-BERT is a BertForMaskedLM (+ heads): its folder loads into a
    plain BertModel, without remote code; the weights match."""
    from transformers import BertConfig, BertForMaskedLM
    torch.manual_seed(0)
    cfg = BertConfig(**tiny_bert_config())
    mlm = BertForMaskedLM(cfg).eval()
    folder = tmp_path / 'cxr-bert'
    mlm.save_pretrained(folder)
    write_tokenizer(folder)
    init_default_scope('mmpathseg')
    enc = MODELS.build(
        dict(type='BertTextEncoder', pretrained=str(folder), max_length=8))
    ref = mlm.bert.embeddings.word_embeddings.weight
    torch.testing.assert_close(
        enc.bert.embeddings.word_embeddings.weight, ref)
    # Same hidden states as the masked-LM's encoder.
    ids, mask = enc.tokenize(['bilateral pulmonary infection'])
    feats, _ = enc(['bilateral pulmonary infection'])
    expected = mlm.bert(
        input_ids=ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(feats, expected)
    # Frozen, eval mode even inside a model in train mode.
    assert not any(p.requires_grad for p in enc.parameters())
    enc.train()
    assert not enc.bert.training
    keep = MODELS.build(
        dict(type='BertTextEncoder', pretrained=str(folder), max_length=8,
             keep_dropout=True))
    keep.train()
    assert keep.bert.training
    # init_weights (called by the runner) keeps the loaded weights.
    enc.init_weights()
    torch.testing.assert_close(
        enc.bert.embeddings.word_embeddings.weight, ref)


def test_fresh_process_offline_bert_and_mmpretrain_scope(tmp_path):
    """In a fresh process (nothing imported beforehand) with the hub
    offline: ``mmpretrain.ConvNeXt`` resolves from the mmpathseg scope (this
    needs transformers < 5 because of mmpretrain 1.2.0's BLIP import; the
    environment pins 4.51.3) and the text encoder loads from a folder."""
    from transformers import BertConfig, BertModel
    folder = tmp_path / 'bert'
    BertModel(BertConfig(**tiny_bert_config()),
              add_pooling_layer=False).save_pretrained(folder)
    write_tokenizer(folder)
    code = (
        'import torch\n'
        'from mmengine.registry import init_default_scope\n'
        "init_default_scope('mmpathseg')\n"
        'from mmpathseg.registry import MODELS\n'
        "m = MODELS.build(dict(type='mmpretrain.ConvNeXt', arch=dict("
        'depths=[1, 1, 1, 1], channels=[8, 16, 32, 64]), out_indices=(0, '
        '1, 2, 3), gap_before_final_norm=False))\n'
        'print([tuple(o.shape) for o in m(torch.zeros(1, 3, 64, 64))])\n'
        f"enc = MODELS.build(dict(type='BertTextEncoder', "
        f"pretrained=r'{folder}', max_length=8))\n"
        "print(tuple(enc(['one area'])[0].shape))\n")
    env = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1',
               HF_HOME=str(tmp_path / 'no-cache'))
    out = subprocess.run([sys.executable, '-c', code], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == (
        '[(1, 8, 16, 16), (1, 16, 8, 8), (1, 32, 4, 4), (1, 64, 2, 2)]')
    assert lines[-1] == f'(1, 8, {TEXT_DIM})'
