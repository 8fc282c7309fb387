# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tokenizers for referring segmentation, built the same way by the data
pipeline and by the model so that token ids agree.

A tokenizer config is a plain dict:

* ``dict(pretrained='checkpoints/llava-7b-v1-1-hf', use_fast=False,
  model_max_length=512)`` — a *local* folder (never a hub name: the path
  must exist), or
* ``dict(words=[...])`` — a word-level tokenizer made in code (tests, demo):
  lower-cased, split on whitespace and punctuation, unknown words map to
  ``<unk>``; ids ``<unk>``=0, ``<s>``=1, ``</s>``=2, ``<pad>``=3,
  ``<image>``=4, then the words in the given order.

Both also take ``image_token`` (default ``"<image>"``), ``num_seg_tokens``
(M: the most [SEG] slots one answer may hold), ``distinct_seg_tokens``
(M different tokens ``[SEG0]..`` instead of one reused ``[SEG]``) and
``use_rej``. The task tokens are added after
the base vocabulary, in the order ``seg_token_names(...)`` then ``[REJ]``.
"""
import os.path as osp
from typing import Dict, List

from .seg_token_utils import REJ_TOKEN, lookup_token_ids, seg_token_names

__all__ = ['build_referring_tokenizer', 'task_token_ids']

_BASE_SPECIALS = ['<unk>', '<s>', '</s>', '<pad>', '<image>']
_TASK_KEYS = ('num_seg_tokens', 'distinct_seg_tokens', 'use_rej',
              'image_token')


def _word_level(words: List[str], model_max_length: int):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    vocab: Dict[str, int] = {}
    for word in _BASE_SPECIALS + [w.lower() for w in words]:
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token='<unk>'))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token='<unk>',
        bos_token='<s>',
        eos_token='</s>',
        pad_token='<pad>',
        model_max_length=model_max_length)
    tokenizer.add_special_tokens(
        {'additional_special_tokens': ['<image>']})
    return tokenizer


def build_referring_tokenizer(cfg: dict):
    """Build the tokenizer described by ``cfg`` (module docstring) with its
    task tokens added. Returns a ``transformers`` tokenizer."""
    cfg = dict(cfg)
    task = {k: cfg.pop(k) for k in _TASK_KEYS if k in cfg}
    max_len = cfg.pop('model_max_length', 512)
    if 'words' in cfg:
        tokenizer = _word_level(list(cfg.pop('words')), max_len)
    elif 'pretrained' in cfg:
        path = cfg.pop('pretrained')
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'tokenizer folder {path!r} does not exist; put the LLaVA '
                'weights there (see configs/ltse/README.md) or override '
                'model.mllm.tokenizer.pretrained. Hub names are not '
                'downloaded.')
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(
            path, model_max_length=max_len, padding_side='right',
            local_files_only=True, **cfg)
        cfg = {}
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.unk_token  # LISA/GSVA
    else:
        raise KeyError(f'tokenizer config {cfg} needs "pretrained" (a local '
                       'folder) or "words" (a word list).')
    if cfg:
        raise KeyError(f'unknown tokenizer config keys {sorted(cfg)}.')
    image_token = task.get('image_token', '<image>')
    if image_token not in tokenizer.get_vocab():
        tokenizer.add_tokens([image_token], special_tokens=True)
    names = seg_token_names(
        task.get('num_seg_tokens', 1), task.get('distinct_seg_tokens', False))
    if task.get('use_rej', False):
        names.append(REJ_TOKEN)
    tokenizer.add_tokens(names, special_tokens=True)
    lookup_token_ids(tokenizer, names)
    return tokenizer


def task_token_ids(tokenizer, cfg: dict) -> dict:
    """``dict(seg=[ids], rej=id | None, image=id, pad=id, eos=id, bos=id)``
    for a tokenizer built from ``cfg``."""
    seg = lookup_token_ids(
        tokenizer,
        seg_token_names(
            cfg.get('num_seg_tokens', 1), cfg.get('distinct_seg_tokens',
                                                  False)))
    rej = lookup_token_ids(tokenizer, [REJ_TOKEN])[0] \
        if cfg.get('use_rej', False) else None
    image = tokenizer.convert_tokens_to_ids(cfg.get('image_token', '<image>'))
    return dict(
        seg=seg,
        rej=rej,
        image=image,
        pad=tokenizer.pad_token_id,
        eos=tokenizer.eos_token_id,
        bos=tokenizer.bos_token_id)
