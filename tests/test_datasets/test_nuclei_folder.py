# Copyright (c) mmpathseg contributors. All rights reserved.
"""NucleiFolderDataset (per-image layout, pickle-free) on generated folders
and on the real NuCLS fixture tiles, and its refusals."""
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpathseg.datasets import NucleiFolderDataset
from mmpathseg.registry import DATASETS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from nuclei_layouts import make_nuclei_folder  # noqa: E402

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadNucleiAnnotations'),
]
CLASSES = ('background', 'A', 'B', 'C')
NUCLS_CLASSES = ('background', 'Non-Tumor', 'Tumor')
# shared/fixtures/nucls/README.md
NUCLS_COUNTS = dict(
    train_1=(12, 7),
    train_2=(43, 44),
    train_3=(14, 24),
    train_4=(14, 18),
    train_5=(28, 19),
    train_6=(36, 40),
    train_7=(13, 26),
    train_8=(29, 31),
    train_9=(9, 13),
    train_10=(22, 16))


@pytest.fixture(autouse=True, scope='module')
def mmpathseg_scope():
    init_default_scope('mmpathseg')


@pytest.fixture(scope='module')
def folder(tmp_path_factory) -> Path:
    return make_nuclei_folder(
        tmp_path_factory.mktemp('folder'), dict(fold0=3, fold1=12))


@pytest.fixture
def broken(folder, tmp_path) -> Path:
    shutil.copytree(folder, tmp_path / 'folder')
    return tmp_path / 'folder'


@pytest.fixture(scope='module')
def nucls(shared_fixtures) -> Path:
    root = shared_fixtures / 'nucls'
    if not (root / 'images').is_dir():
        pytest.skip(f'NuCLS fixture tiles not found under {root}')
    return root


def _build(root, pipeline=PIPELINE, **kwargs):
    kwargs.setdefault('metainfo', dict(classes=CLASSES))
    # serialize_data=False: mmengine's serialisation runs gc.collect().
    return DATASETS.build(
        dict(
            type='NucleiFolderDataset',
            data_root=str(root),
            pipeline=pipeline,
            serialize_data=False,
            **kwargs))


def test_load_folds_in_natural_order(folder):
    dataset = _build(folder, folds=['fold0', 'fold1'])
    assert isinstance(dataset, NucleiFolderDataset)
    assert len(dataset) == 15
    names = [
        Path(dataset.get_data_info(i)['img_path']).stem
        for i in range(len(dataset))
    ]
    assert names == [f'fold0_{i}' for i in range(3)] + \
        [f'fold1_{i}' for i in range(12)]
    assert dataset.metainfo['tissue_types'] == ('Breast', 'Colon')
    results = dataset[4]  # fold1_1
    assert results['fold'] == 'fold1'
    assert (results['tissue'], results['tissue_label']) == ('Colon', 1)
    with np.load(folder / 'fold1/labels/fold1_1.npz') as z:
        np.testing.assert_array_equal(results['gt_inst_map'], z['inst_map'])
        np.testing.assert_array_equal(results['gt_seg_map'], z['type_map'])
    assert results['gt_inst_map'].dtype == np.int32
    assert results['gt_seg_map'].dtype == np.uint8
    assert results['img'].shape == (48, 48, 3)
    assert results['seg_fields'] == ['gt_seg_map', 'gt_inst_map']
    assert len(_build(folder, folds='fold0')) == 3


def test_classes_and_tissues_from_yaml(broken):
    (broken / 'dataset_config.yaml').write_text(
        'nuclei_types:\n  Background: 0\n  A: 1\n  B: 2\n  C: 3\n'
        'tissue_types:\n  Colon: 0\n  Breast: 1\n  Lung: 2\n')
    dataset = _build(broken, folds='fold1', metainfo=None)
    assert dataset.metainfo['classes'] == ('Background', 'A', 'B', 'C')
    assert dataset.metainfo['tissue_types'] == ('Colon', 'Breast', 'Lung')
    assert (dataset[0]['tissue'], dataset[0]['tissue_label']) == ('Breast', 1)
    # label_map.yaml ({id: name}, background implied) wins for classes.
    (broken / 'label_map.yaml').write_text('1: x\n2: y\n3: z\n')
    dataset = _build(broken, folds='fold1', metainfo=None)
    assert dataset.metainfo['classes'] == ('background', 'x', 'y', 'z')
    # The config wins over both.
    assert _build(broken, folds='fold1').metainfo['classes'] == CLASSES
    # Only a safe subset of YAML is read.
    (broken / 'label_map.yaml'
     ).write_text('!!python/object/apply:os.system ["echo unsafe"]\n')
    with pytest.raises(ValueError, match=r'label_map\.yaml: not valid YAML'):
        _build(broken, folds='fold1', metainfo=None)
    (broken / 'label_map.yaml').write_text('1: x\n3: z\n')
    with pytest.raises(ValueError, match='ids must run from 0 without gaps'):
        _build(broken, folds='fold1', metainfo=None)


def test_ann_file_selects_images(folder, tmp_path):
    listing = tmp_path / 'val.csv'
    listing.write_text('img\nfold1_10.png\nfold1_2\n')
    dataset = _build(folder, folds=['fold1'], ann_file=str(listing))
    names = [
        Path(dataset.get_data_info(i)['img_path']).name
        for i in range(len(dataset))
    ]
    assert names == ['fold1_2.png', 'fold1_10.png']
    listing.write_text('fold1_2\nfold9_1\n')
    with pytest.raises(
            ValueError, match=r"1 listed image\(s\) not found .* "
            "'fold9_1'"):
        _build(folder, folds=['fold1'], ann_file=str(listing))


def test_refuses_pickled_npy_labels(broken):
    label = broken / 'fold0/labels/fold0_1.npz'
    with np.load(label) as z:
        content = dict(inst_map=z['inst_map'], type_map=z['type_map'])
    label.unlink()
    np.save(label.with_suffix('.npy'), np.array(content, dtype=object))
    with pytest.raises(ValueError) as err:
        _build(broken, folds='fold0')
    message = str(err.value)
    assert str(label.with_suffix('.npy')) in message
    assert 'does not unpickle' in message
    assert 'cellvit_labels_to_npz.py' in message and '--trusted' in message
    # The transform refuses a .npy path as well.
    from mmpathseg.datasets.transforms import LoadNucleiAnnotations
    with pytest.raises(ValueError, match='cellvit_labels_to_npz.py'):
        LoadNucleiAnnotations()(
            dict(seg_map_path=str(label.with_suffix('.npy')), seg_fields=[]))
    with pytest.raises(ValueError, match='cellvit_labels_to_npz.py'):
        _build(broken, folds='fold1', seg_map_suffix='.npy')


def test_refuses_object_arrays_in_npz(broken):
    label = broken / 'fold0/labels/fold0_0.npz'
    with np.load(label) as z:
        inst = z['inst_map']
    np.savez(label, inst_map=inst, type_map=np.array([{'a': 1}], object))
    dataset = _build(broken, folds='fold0')
    with pytest.raises(
            ValueError,
            match=re.escape(str(label)) + ': holds Python objects'):
        dataset[0]


def test_refuses_inconsistent_labels(broken):

    def rewrite(name, edit):
        path = broken / 'fold0/labels' / f'{name}.npz'
        with np.load(path) as z:
            inst, types = z['inst_map'].copy(), z['type_map'].copy()
        inst, types = edit(inst, types)
        np.savez_compressed(path, inst_map=inst, type_map=types)
        return re.escape(str(path))

    def two_types(inst, types):
        ys, xs = np.nonzero(inst == inst.max())
        types[ys[0], xs[0]] = types[ys[0], xs[0]] % 3 + 1
        return inst, types

    where0 = rewrite('fold0_0', two_types)
    where1 = rewrite('fold0_1', lambda i, t: (i, np.where(i == i.max(), 4, t)))
    where2 = rewrite('fold0_2', lambda i, t: (i[:-1], t[:-1]))
    dataset = _build(broken, folds='fold0')
    with pytest.raises(
            ValueError,
            match=where0 + r': instance id \d+ has '
            'two nucleus types'):
        dataset[0]
    with pytest.raises(
            ValueError,
            match=where1 + r': type id 4 .* outside '
            r'the class list: types must be within 0\.\.3'):
        dataset[1]
    with pytest.raises(
            ValueError,
            match=where2 + r': label size \(47, 48\) '
            r'differs from the image size \(48, 48\) of .*'
            r'fold0_2\.png'):
        dataset[2]


def test_refuses_layout_problems(broken):
    (broken / 'fold0/labels/fold0_2.npz').unlink()
    with pytest.raises(
            FileNotFoundError, match=r'fold0_2\.png has no label '
            'file'):
        _build(broken, folds='fold0')
    with pytest.raises(FileNotFoundError, match=r'fold7/images is missing'):
        _build(broken, folds='fold7')
    lines = (broken / 'fold1/types.csv').read_text().splitlines()
    (broken / 'fold1/types.csv').write_text('\n'.join(lines[:-1]) + '\n')
    with pytest.raises(
            ValueError,
            match=r"types\.csv: no tissue for image "
            r"'fold1_11\.png'"):
        _build(broken, folds='fold1')
    (broken / 'fold1/types.csv').write_text('\n'.join(lines) + '\n')
    with pytest.raises(
            ValueError,
            match=r"tissue 'Colon' .* is not one of "
            r"the tissue_types \['Breast'\]"):
        _build(
            broken,
            folds='fold1',
            metainfo=dict(classes=CLASSES, tissue_types=('Breast', )))
    with pytest.raises(ValueError, match='no class names'):
        _build(broken, folds='fold1', metainfo=None)
    with pytest.raises(ValueError, match='must start with "background"'):
        _build(broken, folds='fold1', metainfo=dict(classes=('A', 'B')))


def test_real_nucls_tiles(nucls, tmp_path):
    """The ten NuCLS tiles: sizes, classes and per-class nucleus counts of
    the fixture README, through the whole training pipeline."""
    dataset = _build(
        nucls,
        metainfo=dict(classes=NUCLS_CLASSES),
        pipeline=PIPELINE + [
            dict(type='RandomRotate90', prob=1.0),
            dict(type='GenerateHVMap'),
            dict(type='PackNucleiInputs'),
        ])
    assert len(dataset) == 10
    assert dataset.metainfo['tissue_types'] == ('unknown', )
    for i in range(len(dataset)):
        packed = dataset[i]
        sample = packed['data_samples']
        name = Path(sample.img_path).stem
        assert packed['inputs'].shape == (3, 256, 256)
        inst = sample.gt_instance_map.data[0].numpy()
        types = sample.gt_sem_seg.data[0].numpy()
        ids = np.unique(inst[inst > 0])
        first = {int(k): int(types[inst == k][0]) for k in ids}
        counts = tuple(
            sum(1 for t in first.values() if t == c) for c in (1, 2))
        assert counts == NUCLS_COUNTS[name], name
        assert sample.gt_hv_map.data.shape == (2, 256, 256)
    # The upstream fold-0 validation tiles, selected by an ann_file.
    listing = tmp_path / 'val.csv'
    listing.write_text('train_8\ntrain_9\ntrain_10\n')
    val = _build(
        nucls, metainfo=dict(classes=NUCLS_CLASSES), ann_file=str(listing))
    assert [
        Path(val.get_data_info(i)['img_path']).stem for i in range(len(val))
    ] == ['train_8', 'train_9', 'train_10']
