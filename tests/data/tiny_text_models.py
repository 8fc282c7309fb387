# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiny random text-guided models and a tiny tokenizer folder for tests (no
network, no weights on disk)."""
from pathlib import Path

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

WORDS = ('unilateral bilateral pulmonary infection one two three four '
         'infected area areas all upper middle lower left right lung and '
         'pneumonia').split()
SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
TEXT_DIM = 32


def write_tokenizer(folder: Path) -> Path:
    """A BERT WordPiece vocabulary of the QaTa template words."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = SPECIALS + WORDS + [',', '.']
    (folder / 'vocab.txt').write_text('\n'.join(vocab) + '\n')
    (folder / 'tokenizer_config.json').write_text('{"do_lower_case": true}')
    return folder


def tiny_bert_config() -> dict:
    return dict(
        vocab_size=len(SPECIALS) + len(WORDS) + 2,
        hidden_size=TEXT_DIM,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64)


def tiny_backbone() -> dict:
    return dict(
        type='mmpretrain.ConvNeXt',
        arch=dict(depths=[1, 1, 1, 1], channels=[8, 16, 32, 64]),
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False)


def tiny_head(moe: bool = True, num_experts: int = 4, **kwargs) -> dict:
    projection = dict(type='TextMoE', num_experts=num_experts) if moe \
        else dict(type='GuideTextProjection')
    head = dict(
        type='GuideDecoderHead',
        in_channels=(8, 16, 32, 64),
        text_channels=TEXT_DIM,
        text_len=8,
        stage_text_lens=(8, 4, 3),
        text_projection=projection,
        head_channels=4,
        loss_decode=[
            dict(type='SoftDiceLoss', loss_name='loss_dice'),
            dict(
                type='mmseg.CrossEntropyLoss',
                use_sigmoid=True,
                avg_non_ignore=True,
                loss_name='loss_ce')
        ],
        loss_diversity=dict(type='GateDiversityLoss') if moe else None)
    head.update(kwargs)
    return head


def tiny_segmentor(tokenizer_dir, moe: bool = True, **kwargs) -> dict:
    cfg = dict(
        type='TextGuidedSegmentor',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[127.5] * 3,
            std=[127.5] * 3,
            size=(64, 64)),
        backbone=tiny_backbone(),
        text_encoder=dict(
            type='BertTextEncoder',
            tokenizer=str(tokenizer_dir),
            bert_config=tiny_bert_config(),
            max_length=8),
        decode_head=tiny_head(moe))
    cfg.update(kwargs)
    return cfg


def fake_batch(n: int = 2, size: int = 64, texts=None, seed: int = 0):
    """``inputs`` (normalised) and data samples with masks and reports."""
    rng = np.random.default_rng(seed)
    texts = texts or [
        'Bilateral pulmonary infection, two infected areas.',
        'Unilateral pulmonary infection, one infected area, upper left lung.'
    ] * n
    inputs = torch.from_numpy(
        rng.standard_normal((n, 3, size, size)).astype(np.float32))
    samples = []
    for i in range(n):
        mask = np.zeros((1, size, size), np.int64)
        mask[0, 8 + i:30, 10:40] = 1
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                text=texts[i],
                has_text=texts[i] is not None))
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(mask))
        samples.append(sample)
    return inputs, samples
