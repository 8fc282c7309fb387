# Copyright (c) mmpathseg contributors. All rights reserved.
"""TextGuidedSegmentor.predict records what guided each sample
(``text_guide``), and the picture says so when it was not the report."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from mmpathseg.registry import MODELS
from mmpathseg.visualization import draw_text_guided_sample
from mmpathseg.visualization.layout import text_banner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_text_models import (TEXT_DIM, fake_batch,  # noqa: E402
                              tiny_segmentor, write_tokenizer)


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    init_default_scope('mmpathseg')
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_segmentor(
            write_tokenizer(tmp_path_factory.mktemp('tok')),
            virtual_prompt=dict(
                type='VirtualPrompt', length=8, embed_dims=TEXT_DIM)))
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('mode,missing,expected', [
    ('text', 'auto', ['report', 'virtual prompt']),
    ('text', 'empty', ['report', 'empty sentence']),
    ('none', 'auto', ['no text', 'no text']),
    ('fixed', 'auto', ['fixed text', 'fixed text']),
    ('virtual', 'auto', ['virtual prompt', 'virtual prompt']),
])
def test_predict_records_the_text_guide(model, mode, missing, expected):
    inputs, samples = fake_batch(texts=['one infected area', None])
    model.test_cfg.text_mode = mode
    model.test_cfg.missing_text = missing
    with torch.no_grad():
        out = model.predict(inputs, samples)
    assert [s.metainfo['text_guide'] for s in out] == expected


def test_picture_says_what_guided(model):
    inputs, samples = fake_batch(texts=['one infected area', None])
    image = np.full((64, 64, 3), 100, np.uint8)
    headers = {}
    for mode in ('text', 'none'):
        model.test_cfg.text_mode = mode
        model.test_cfg.missing_text = 'auto'
        with torch.no_grad():
            sample = model.predict(inputs, [s.clone() for s in samples])[0]
        picture = draw_text_guided_sample(image, sample)
        # Above the 256 px panels and their one-line titles.
        title = text_banner(256, [('title', (0, 0, 0))]).shape[0]
        headers[mode] = picture[:picture.shape[0] - 256 - title]
    # 'none': one more line ("guided by: no text"), and the report (the
    # last line) grey instead of black.
    assert headers['none'].shape[0] > headers['text'].shape[0]
    assert headers['text'][-22:].min() < 40
    assert 60 < headers['none'][-22:].min() < 128
