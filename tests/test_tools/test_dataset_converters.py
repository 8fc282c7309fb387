# Copyright (c) mmpathseg contributors. All rights reserved.
"""tools/dataset_converters: CellViT pickled labels -> .npz (only with
--trusted), CoNIC split/check/export, PanNuke -> per-image layout; each
round trip is read back by the datasets and compared."""
import importlib.util
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpathseg.datasets.conic_split import source_level_split
from mmpathseg.registry import DATASETS

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'data'))
from nuclei_layouts import conic_patch_names, make_conic  # noqa: E402
from pannuke_demo import make_pannuke_demo  # noqa: E402


def _tool(name):
    path = REPO_ROOT / 'tools' / 'dataset_converters' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'converter_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True, scope='module')
def mmpathseg_scope():
    init_default_scope('mmpathseg')


def _build(cfg):
    # serialize_data=False: mmengine's serialisation runs gc.collect().
    return DATASETS.build(dict(cfg, serialize_data=False))


def _maps(results):
    return results['img'], results['gt_inst_map'], results['gt_seg_map']


# --------------------------------------------------------------------------
# CellViT pickled .npy labels -> .npz


@pytest.fixture
def pickled_folder(tmp_path) -> Path:
    """A per-image folder with upstream-style pickled uint32 dict labels."""
    rng = np.random.default_rng(0)
    root = tmp_path / 'cellvit'
    (root / 'fold0' / 'images').mkdir(parents=True)
    (root / 'fold0' / 'labels').mkdir()
    for i in range(3):
        inst = np.zeros((24, 24), np.uint32)
        inst[2:8, 3:9], inst[10:20, 12:18] = 1, 2
        types = np.where(inst == 1, 1, np.where(inst == 2, 2,
                                                0)).astype(np.uint32)
        content = dict(inst_map=inst, type_map=types)
        np.save(root / 'fold0' / 'labels' / f'0_{i}.npy',
                np.array(content, dtype=object))
        img = rng.integers(0, 256, (24, 24, 3)).astype(np.uint8)
        cv2.imwrite(str(root / 'fold0' / 'images' / f'0_{i}.png'), img)
    return root


def test_cellvit_labels_need_trusted(pickled_folder, capsys):
    tool = _tool('cellvit_labels_to_npz')
    assert tool.main([str(pickled_folder)]) == 2
    err = capsys.readouterr().err
    assert 'unpickling runs any code' in err and '--trusted' in err
    assert not list(pickled_folder.rglob('*.npz'))


def test_cellvit_labels_round_trip(pickled_folder, tmp_path):
    tool = _tool('cellvit_labels_to_npz')
    # A dataset root: every labels/ folder below it.
    assert tool.main([str(pickled_folder), '--trusted', '--num-classes',
                      '2']) == 0
    npz = sorted((pickled_folder / 'fold0' / 'labels').glob('*.npz'))
    assert [p.stem for p in npz] == ['0_0', '0_1', '0_2']
    dataset = _build(
        dict(
            type='NucleiFolderDataset',
            data_root=str(pickled_folder),
            folds='fold0',
            metainfo=dict(classes=('background', 'a', 'b')),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadNucleiAnnotations')
            ]))
    for i in range(3):
        results = dataset[i]
        original = np.load(
            pickled_folder / 'fold0' / 'labels' / f'0_{i}.npy',
            allow_pickle=True).item()
        np.testing.assert_array_equal(results['gt_inst_map'],
                                      original['inst_map'])
        np.testing.assert_array_equal(results['gt_seg_map'],
                                      original['type_map'])
    # A labels folder, written elsewhere.
    labels = pickled_folder / 'fold0' / 'labels'
    assert tool.main(
        [str(labels), '--trusted', '--out',
         str(tmp_path / 'out')]) == 0
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
        '0_0.npz', '0_1.npz', '0_2.npz'
    ]


def test_cellvit_labels_refuses_bad_content(pickled_folder):
    tool = _tool('cellvit_labels_to_npz')
    labels = pickled_folder / 'fold0' / 'labels'
    content = np.load(labels / '0_1.npy', allow_pickle=True).item()
    content['type_map'][2, 3] = 2  # instance 1 gets a second type
    np.save(labels / '0_1.npy', np.array(content, dtype=object))
    with pytest.raises(
            ValueError, match=r'0_1\.npy: instance id 1 has two '
            'nucleus types'):
        tool.main([str(labels), '--trusted'])
    np.save(labels / '0_1.npy', np.zeros((4, 4)))
    with pytest.raises(
            ValueError, match=r'0_1\.npy: expected a pickled '
            'dict'):
        tool.main([str(labels), '--trusted', '--overwrite'])


# --------------------------------------------------------------------------
# CoNIC


@pytest.fixture
def conic(tmp_path) -> Path:
    return make_conic(tmp_path / 'conic', size=32)


def test_conic_split_file_and_check(conic, capsys):
    tool = _tool('conic')
    assert tool.main([str(conic), '--seed', '4', '--check']) == 0
    out = capsys.readouterr().out
    assert 'Labels: 34/34 valid' in out
    assert 'in the central 28 px of labels.npy on 0 patch(es)' in out
    names = conic_patch_names()
    written = (conic / 'splits.csv').read_text().splitlines()
    assert written[0] == 'patch_info,source,split'
    assert [line.split(',')[2] for line in written[1:]] == \
        source_level_split(names, seed=4)
    # The dataset reads it back: the same split as computing it.
    for split in ('train', 'val', 'test'):
        from_file = _build(
            dict(
                type='CoNICDataset',
                data_root=str(conic),
                split=split,
                split_file='splits.csv'))
        computed = _build(
            dict(
                type='CoNICDataset',
                data_root=str(conic),
                split=split,
                split_seed=4))
        assert from_file.data_list == computed.data_list
    assert tool.main([str(conic), '--use-split-file']) == 0

    labels = np.load(conic / 'labels.npy')
    labels[5, 0, 0] = (0, 2)  # a class without an instance
    np.save(conic / 'labels.npy', labels)
    assert tool.main([str(conic), '--check']) == 1
    out = capsys.readouterr().out
    assert 'INVALID' in out and 'labels.npy[5]' in out
    assert 'Labels: 33/34 valid' in out


def test_conic_per_image_export_round_trip(conic, tmp_path):
    tool = _tool('conic')
    out = tmp_path / 'per_image'
    assert tool.main([str(conic), '--per-image-out', str(out)]) == 0
    for split in ('train', 'val', 'test'):
        release = _build(
            dict(
                type='CoNICDataset',
                data_root=str(conic),
                split=split,
                pipeline=[
                    dict(type='LoadImageFromNpy'),
                    dict(type='LoadNucleiAnnotations')
                ]))
        folder = _build(
            dict(
                type='NucleiFolderDataset',
                data_root=str(out),
                folds=split,
                pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='LoadNucleiAnnotations')
                ]))
        assert folder.metainfo['classes'] == release.metainfo['classes']
        assert len(folder) == len(release)
        by_name = {
            Path(folder.get_data_info(i)['img_path']).stem: i
            for i in range(len(folder))
        }
        for i in range(len(release)):
            a = release[i]
            b = folder[by_name[a['patch_name']]]
            assert b['tissue'] == 'Colon'
            for x, y in zip(_maps(a), _maps(b)):
                np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------
# PanNuke -> per-image layout


def test_pannuke_to_cellvit_round_trip(tmp_path):
    tool = _tool('pannuke_to_cellvit')
    demo = make_pannuke_demo(tmp_path / 'pannuke', 2, num_folds=2)
    out = tmp_path / 'cellvit'
    assert tool.main([str(demo), str(out), '--folds', '1']) == 0
    assert (out / 'fold1' / 'cell_count.csv').is_file()
    release = _build(
        dict(
            type='PanNukeDataset',
            data_root=str(demo),
            folds=[1],
            pipeline=[
                dict(type='LoadImageFromNpy'),
                dict(type='LoadPanNukeAnnotations')
            ]))
    folder = _build(
        dict(
            type='NucleiFolderDataset',
            data_root=str(out),
            folds=['fold1'],
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadNucleiAnnotations')
            ]))
    # Classes and tissues from the written dataset_config.yaml.
    assert tuple(c.lower() for c in folder.metainfo['classes']) == tuple(
        c.lower() for c in release.metainfo['classes'])
    assert folder.metainfo['tissue_types'] == release.metainfo['tissue_types']
    assert len(folder) == len(release) == 2
    for i in range(2):
        a, b = release[i], folder[i]
        assert Path(b['img_path']).stem == f'1_{a["img_index"]}'
        assert (a['tissue'], a['tissue_label']) == (b['tissue'],
                                                    b['tissue_label'])
        for x, y in zip(_maps(a), _maps(b)):
            np.testing.assert_array_equal(x, y)
    shutil.rmtree(out)
