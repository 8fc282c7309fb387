# Copyright (c) mmpathseg contributors. All rights reserved.
"""The published text-guided configs: full-size decoder sizes, and the
two-stage (text -> virtual prompt) wiring at tiny size."""
import fnmatch
import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmpathseg.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests' / 'data'))
from tiny_text_models import fake_batch, write_tokenizer  # noqa: E402


def _shrunk(config: str, tok_dir) -> Config:
    spec = importlib.util.spec_from_file_location(
        'config_shrink', REPO / 'tests/data/config_shrink.py')
    shrink = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shrink)
    cfg = Config.fromfile(REPO / config)
    for pattern, options in shrink.SHRINK.items():
        if fnmatch.fnmatch(config, pattern):
            cfg.merge_from_dict(options)
    cfg.model.backbone.pop('init_cfg', None)
    cfg.model.text_encoder.pretrained = None
    cfg.model.text_encoder.tokenizer = str(tok_dir)
    cfg.model.text_encoder.bert_config.vocab_size = 40
    cfg.model.data_preprocessor.size = (64, 64)
    return cfg


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmpathseg')


@pytest.mark.parametrize('config,params', [
    # Ariadne's decoder measured on the reference code: 14.36 M.
    ('configs/ariadne/convnext-t_qata.py', 14_357_953),
    # 4 experts at each of the 3 stages add 3 x 3 expert projections.
    ('configs/mlmoe/convnext-t_qata.py', 17_476_543),
    ('configs/mlmoe/convnext-t-1e_qata.py', 14_361_607),
])
def test_full_size_decoder_parameters(config, params):
    head = MODELS.build(Config.fromfile(REPO / config).model.decode_head)
    assert sum(p.numel() for p in head.parameters()) == params


def test_ablation_configs_set_what_they_say():
    def proj(name):
        return Config.fromfile(
            REPO / 'configs/mlmoe' / name).model.decode_head.text_projection

    assert [proj(f'convnext-t-{n}e_qata.py').num_experts
            for n in (1, 2, 8, 16)] == [1, 2, 8, 16]
    assert proj('convnext-t_qata.py').num_experts == 4
    assert proj('convnext-t_qata_no-tau.py').learnable_temperature is False
    assert proj('convnext-t_qata_no-fv.py').use_visual is False
    assert Config.fromfile(
        REPO / 'configs/ariadne/convnext-t_qata.py'
    ).model.decode_head.text_projection.type == 'GuideTextProjection'


def test_stage_two_loads_stage_one_and_trains_prompt_and_adapters(tmp_path):
    tok = write_tokenizer(tmp_path / 'tok')
    stage1 = MODELS.build(
        _shrunk('configs/mlmoe/convnext-t_qata.py', tok).model)
    ckpt = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=stage1.state_dict(), meta=dict()), ckpt)

    cfg = _shrunk('configs/mlmoe/convnext-t_qata_virtual-prompt.py', tok)
    assert cfg.load_from.endswith('.pth')
    assert cfg.model.backbone.get('init_cfg') is None
    stage2 = MODELS.build(cfg.model)
    stage2.init_weights()
    load_checkpoint(stage2, str(ckpt), map_location='cpu', strict=False)
    loaded = stage1.state_dict()
    new_keys = set(stage2.state_dict()) - set(loaded)
    assert new_keys and all(
        k == 'virtual_prompt.prompt' or k.startswith('decode_head.adapters.')
        for k in new_keys)
    for key, value in stage2.state_dict().items():
        if key in loaded:
            torch.testing.assert_close(value, loaded[key], msg=key)

    trainable = {n for n, p in stage2.named_parameters() if p.requires_grad}
    assert trainable == {
        n for n in new_keys if 'running' not in n and 'num_batches' not in n
    }
    stage2.train()
    inputs, samples = fake_batch()
    losses = stage2.loss(inputs, samples)
    assert 'loss_distill' in losses and 'loss_div' not in losses
    total, _ = stage2.parse_losses(losses)
    total.backward()
    assert {n for n, p in stage2.named_parameters()
            if p.grad is not None} <= trainable
    assert stage2.virtual_prompt.prompt.grad.abs().sum() > 0
