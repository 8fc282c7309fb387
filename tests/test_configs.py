# Copyright (c) mmpathseg contributors. All rights reserved.
"""Every config under configs/ parses, names registered types, and builds its
model, so no config rots. Full-size models are shrunk by the cfg-options in
``tests/data/config_shrink.py`` (matched by glob on the config path)."""
import fnmatch
import importlib.util
from pathlib import Path

import pytest
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

from mmpathseg.registry import (DATASETS, HOOKS, METRICS, MODELS,
                                TRANSFORMS, VISUALIZERS)
from mmpathseg.utils import registry_hints

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_ROOT = REPO_ROOT / 'configs'
CONFIGS = sorted(
    p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)


def _load_shrink() -> dict:
    spec = importlib.util.spec_from_file_location(
        'config_shrink', REPO_ROOT / 'tests/data/config_shrink.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SHRINK


SHRINK = _load_shrink()


def _relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def _strip_pretrained(cfg):
    """Drop pretrained weights: tests never read checkpoints from disk."""
    if isinstance(cfg, dict):
        cfg.pop('pretrained', None)
        if isinstance(cfg.get('init_cfg'), dict) and \
                cfg['init_cfg'].get('type') == 'Pretrained':
            cfg.pop('init_cfg')
        for value in cfg.values():
            _strip_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _strip_pretrained(value)


def _assert_registered(cfg, registry, where: str):
    if cfg is None:
        return
    items = cfg if isinstance(cfg, (list, tuple)) else [cfg]
    for item in items:
        if isinstance(item, dict) and 'type' in item and \
                isinstance(item['type'], str):
            assert registry.get(item['type']) is not None, \
                f'{where}: type "{item["type"]}" is not registered in ' \
                f'{registry.scope}::{registry.name}'


def test_configs_exist():
    assert CONFIGS, f'no configs found under {CONFIG_ROOT}'


def test_every_shrink_entry_matches_a_config():
    names = [_relative(p) for p in CONFIGS]
    for pattern in SHRINK:
        assert fnmatch.filter(names, pattern), \
            f'tests/data/config_shrink.py: "{pattern}" matches no config'


@pytest.mark.parametrize('config', CONFIGS, ids=_relative)
def test_config_builds(config):
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    for pattern, options in SHRINK.items():
        if fnmatch.fnmatch(_relative(config), pattern):
            cfg.merge_from_dict(options)

    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:
            continue
        dataset = loader['dataset']
        while isinstance(dataset, (dict, ConfigDict)) and \
                'dataset' in dataset:  # wrappers such as RepeatDataset
            _assert_registered(dataset, DATASETS, f'{split} wrapper')
            dataset = dataset['dataset']
        _assert_registered(dataset, DATASETS, f'{split}_dataloader')
        _assert_registered(
            dataset.get('pipeline'), TRANSFORMS, f'{split} pipeline')
    for key in ('val_evaluator', 'test_evaluator'):
        _assert_registered(cfg.get(key), METRICS, key)
    _assert_registered(
        list(cfg.get('default_hooks', {}).values()), HOOKS, 'default_hooks')
    _assert_registered(cfg.get('custom_hooks'), HOOKS, 'custom_hooks')
    _assert_registered(cfg.get('visualizer'), VISUALIZERS, 'visualizer')

    _strip_pretrained(cfg.model)
    with registry_hints():
        model = MODELS.build(cfg.model)
    model.init_weights()
    assert sum(p.numel() for p in model.parameters()) > 0
