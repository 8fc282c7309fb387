# Copyright (c) mmpathseg contributors. All rights reserved.
"""The nuclei dataset fragments of configs/_base_/datasets (PanNuke splits,
CoNIC 20x and 40x): folds/splits as documented, and every dataloader's
dataset and pipeline run on tiny generated data, with its evaluator."""
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpathseg.registry import DATASETS, METRICS

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE = REPO_ROOT / 'configs' / '_base_' / 'datasets'
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'data'))
from nuclei_layouts import make_conic  # noqa: E402
from pannuke_demo import make_pannuke_demo  # noqa: E402

PANNUKE_SPLITS = {
    'pannuke_split1.py': ([0], [1], [2]),
    'pannuke_split2.py': ([1], [0], [2]),
    'pannuke_split3.py': ([2], [1], [0]),
}
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(autouse=True, scope='module')
def mmpathseg_scope():
    init_default_scope('mmpathseg')


@pytest.fixture(scope='module')
def pannuke(tmp_path_factory) -> Path:
    return make_pannuke_demo(tmp_path_factory.mktemp('pannuke'), 1)


@pytest.fixture(scope='module')
def conic(tmp_path_factory) -> Path:
    # Six one-tile sources of one cohort: 4 train, 1 val, 1 test.
    return make_conic(
        tmp_path_factory.mktemp('conic'),
        size=256,
        num_nuclei=30,
        sources=dict(crag=(1, ) * 6))


def _datasets(cfg: Config, data_root: Path) -> dict:
    out = {}
    for key in LOADERS:
        dataset = dict(cfg[key]['dataset'])
        dataset.update(data_root=str(data_root), serialize_data=False)
        out[key] = DATASETS.build(dataset)
    return out


def _check_packed(packed: dict, size: int, with_hv: bool) -> None:
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, size, size)
    assert sample.gt_instance_map.data.shape == (1, size, size)
    assert sample.gt_sem_seg.data.shape == (1, size, size)
    assert ('gt_hv_map' in sample) == with_hv
    assert isinstance(sample.tissue_label, int)


def _check_evaluators(cfg: Config, dataset) -> None:
    for key in ('val_evaluator', 'test_evaluator'):
        metric = METRICS.build(cfg[key])
        metric.dataset_meta = dataset.metainfo


@pytest.mark.parametrize('name', sorted(PANNUKE_SPLITS))
def test_pannuke_split(name, pannuke):
    cfg = Config.fromfile(BASE / name)
    folds = tuple(cfg[k]['dataset']['folds'] for k in LOADERS)
    assert folds == PANNUKE_SPLITS[name]
    assert cfg.test_evaluator['aggregation'] == ['tissue', 'image']
    datasets = _datasets(cfg, pannuke)
    np.random.seed(0)
    for key, dataset in datasets.items():
        assert len(dataset) == 1
        packed = dataset[0]
        _check_packed(packed, 256, key == 'train_dataloader')
        assert packed['data_samples'].fold == dataset.folds[0]
    _check_evaluators(cfg, datasets['test_dataloader'])


def test_conic_20x(conic):
    cfg = Config.fromfile(BASE / 'conic.py')
    assert [cfg[k]['dataset']['split'] for k in LOADERS] == \
        ['train', 'val', 'test']
    assert cfg.test_evaluator['aggregation'] == ['image', 'dataset']
    assert cfg.test_evaluator['count_crop'] == 224
    datasets = _datasets(cfg, conic)
    assert [len(d) for d in datasets.values()] == [4, 1, 1]
    np.random.seed(0)
    for key, dataset in datasets.items():
        packed = dataset[0]
        _check_packed(packed, 256, key == 'train_dataloader')
        assert packed['data_samples'].tissue == 'Colon'
    _check_evaluators(cfg, datasets['test_dataloader'])


def test_conic_40x(conic):
    cfg = Config.fromfile(BASE / 'conic_40x.py')
    datasets = _datasets(cfg, conic)
    # Train: 4 crops per tile; val and test: one sample per tile.
    assert [len(d) for d in datasets.values()] == [16, 1, 1]
    np.random.seed(0)
    packed = datasets['train_dataloader'][5]
    _check_packed(packed, 256, True)
    meta = packed['data_samples'].metainfo
    assert meta['crop_offset'] == (0, 224) and meta['crop_index'] == 1
    assert meta['upsampled_shape'] == (480, 480)
    assert meta['tile_shape'] == (256, 256)
    for key in ('val_dataloader', 'test_dataloader'):
        packed = datasets[key][0]
        _check_packed(packed, 256, False)
        meta = packed['data_samples'].metainfo
        assert meta['ori_shape'] == (256, 256)
        assert meta['upsampled_shape'] == (480, 480)
        assert meta['crop_size'] == (256, 256)
        assert list(meta['crop_offsets']) == [(0, 0), (0, 224), (224, 0),
                                              (224, 224)]
        assert meta['tile_index'] == meta['img_index']
    _check_evaluators(cfg, datasets['test_dataloader'])
