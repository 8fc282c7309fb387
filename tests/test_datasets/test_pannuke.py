# Copyright (c) mmpathseg contributors. All rights reserved.
"""PanNukeDataset and its loading transforms on tiny generated data, and the
refusal of inconsistent data (each message names the file and the index)."""
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpathseg.datasets import (NUCLEI_TYPES, PANNUKE_TISSUE_TYPES,
                                PanNukeDataset, pannuke_fold_files)
from mmpathseg.datasets.transforms import (LoadImageFromNpy,
                                           LoadPanNukeAnnotations)
from mmpathseg.registry import DATASETS, TRANSFORMS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from pannuke_demo import load_generator, make_pannuke_demo  # noqa: E402

NUM = 2
PIPELINE = [
    dict(type='LoadImageFromNpy'),
    dict(type='LoadPanNukeAnnotations'),
]


@pytest.fixture(autouse=True, scope='module')
def mmpathseg_scope():
    """Pipelines resolve transform names in the default scope."""
    init_default_scope('mmpathseg')


@pytest.fixture(scope='module')
def demo(tmp_path_factory) -> Path:
    return make_pannuke_demo(tmp_path_factory.mktemp('pannuke'), NUM)


@pytest.fixture
def bad_copy(demo, tmp_path):
    """A writable copy of fold 0 (``Fold 1``) to break."""
    shutil.copytree(demo / 'Fold 1', tmp_path / 'Fold 1')
    return tmp_path, pannuke_fold_files(str(tmp_path), 0)


def _build(root, folds=(0, ), pipeline=PIPELINE, **kwargs):
    return DATASETS.build(
        dict(
            type='PanNukeDataset',
            data_root=str(root),
            folds=folds if isinstance(folds, int) else list(folds),
            pipeline=pipeline,
            **kwargs))


def _rewrite(path, edit):
    array = np.load(path)
    array = edit(array)
    np.save(path, array)


def test_metainfo_matches_the_generator():
    gen = load_generator()
    assert PanNukeDataset.METAINFO['classes'] == ('background', ) + tuple(
        gen.NUCLEI_TYPES)
    assert tuple(PanNukeDataset.METAINFO['tissue_types']) == \
        tuple(gen.TISSUE_TYPES) == PANNUKE_TISSUE_TYPES
    assert len(PanNukeDataset.METAINFO['palette']) == 6
    assert NUCLEI_TYPES == tuple(gen.NUCLEI_TYPES)


def test_registered():
    assert DATASETS.get('PanNukeDataset') is PanNukeDataset
    assert TRANSFORMS.get('LoadImageFromNpy') is LoadImageFromNpy
    assert TRANSFORMS.get('LoadPanNukeAnnotations') is LoadPanNukeAnnotations


def test_index_of_folds(demo):
    dataset = _build(demo, folds=(2, 0))
    assert len(dataset) == 2 * NUM
    info = dataset.get_data_info(0)
    files = pannuke_fold_files(str(demo), 2)
    assert info['img_path'] == files['images']
    assert info['seg_map_path'] == files['masks']
    assert (info['fold'], info['img_index']) == (2, 0)
    assert dataset.get_data_info(NUM)['fold'] == 0
    types = np.load(files['types'])
    assert info['tissue'] == types[0]
    assert PANNUKE_TISSUE_TYPES[info['tissue_label']] == info['tissue']
    assert _build(demo, folds=1).folds == (1, )


def test_sample_contents(demo):
    dataset = _build(demo, folds=(1, ))
    files = pannuke_fold_files(str(demo), 1)
    images = np.load(files['images'])
    masks = np.load(files['masks'])
    for i in range(NUM):
        results = dataset[i]
        img = results['img']
        assert img.dtype == np.uint8 and img.shape == (256, 256, 3)
        # BGR, as mmseg's LoadImageFromFile.
        np.testing.assert_array_equal(img, images[i][..., ::-1])
        assert results['img_shape'] == (256, 256)
        seg, inst = results['gt_seg_map'], results['gt_inst_map']
        assert seg.dtype == np.uint8 and inst.dtype == np.int32
        assert results['seg_fields'] == ['gt_seg_map', 'gt_inst_map']
        expected_seg = np.zeros((256, 256), np.uint8)
        for c in range(5):
            expected_seg[masks[i, ..., c] > 0] = c + 1
        np.testing.assert_array_equal(seg, expected_seg)
        np.testing.assert_array_equal(inst, masks[i, ..., :5].sum(-1))
        # One type per instance.
        for inst_id in np.unique(inst[inst > 0]):
            assert len(np.unique(seg[inst == inst_id])) == 1


def test_rgb_float_and_seg_only(demo):
    dataset = _build(
        demo,
        pipeline=[
            dict(type='LoadImageFromNpy', channel_order='rgb',
                 to_float32=True),
            dict(type='LoadPanNukeAnnotations', with_inst=False),
        ])
    results = dataset[0]
    images = np.load(pannuke_fold_files(str(demo), 0)['images'])
    assert results['img'].dtype == np.float32
    np.testing.assert_array_equal(results['img'], images[0])
    assert 'gt_inst_map' not in results
    assert results['seg_fields'] == ['gt_seg_map']


def test_arrays_are_memory_mapped_not_unpickled(demo):
    transform = LoadImageFromNpy()
    transform(dict(img_path=pannuke_fold_files(str(demo), 0)['images'],
                   img_index=0))
    array = next(iter(transform._cache._arrays.values()))
    assert isinstance(array, np.memmap)


def test_demo_config_pipeline_packs(demo):
    """The demo config's train pipeline on the tiny data: crops, flips and
    packs the row/fold/tissue into the metainfo."""
    from mmengine.config import Config
    root = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(root / 'configs/_base_/datasets/pannuke_demo.py')
    dataset = _build(demo, pipeline=cfg.train_pipeline)
    packed = dataset[1]
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 128, 128)
    assert sample.gt_sem_seg.data.shape == (1, 128, 128)
    assert (sample.img_index, sample.fold) == (1, 0)
    assert sample.tissue in PANNUKE_TISSUE_TYPES


# ---------------------------------------------------------------- refusals
def test_refuses_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='generate_demo_data'):
        _build(tmp_path)


def test_refuses_bad_folds_and_root(demo):
    with pytest.raises(ValueError, match='0-based'):
        _build(demo, folds=(-1, ))
    with pytest.raises(ValueError, match='data_root'):
        PanNukeDataset(folds=[0], data_root=None)


def test_refuses_shape_mismatch(bad_copy):
    root, files = bad_copy
    _rewrite(files['masks'], lambda m: m[:-1])
    with pytest.raises(ValueError) as err:
        _build(root)
    message = str(err.value)
    assert files['images'] in message and files['masks'] in message
    assert 'must match' in message


def test_refuses_size_mismatch(bad_copy):
    root, files = bad_copy
    _rewrite(files['masks'], lambda m: m[:, :128])
    with pytest.raises(ValueError, match='height/width'):
        _build(root)


def test_refuses_wrong_channel_count(bad_copy):
    root, files = bad_copy
    _rewrite(files['masks'], lambda m: m[..., :5])
    with pytest.raises(ValueError) as err:
        _build(root)
    assert files['masks'] in str(err.value)
    assert 'wrong channel count' in str(err.value)
    _rewrite(files['masks'], lambda m: np.zeros((NUM, 256, 256, 6)))
    _rewrite(files['images'], lambda m: m[..., :2])
    with pytest.raises(ValueError, match=re.escape(files['images'])):
        _build(root)


def test_refuses_bad_types(bad_copy):
    root, files = bad_copy
    np.save(files['types'], np.array(['Colon', 'Mars'][:NUM]))
    with pytest.raises(ValueError, match="'Mars' at index 1"):
        _build(root)
    np.save(files['types'], np.array(['Colon'] * (NUM + 1)))
    with pytest.raises(ValueError, match='tissue names'):
        _build(root)
    np.save(
        files['types'],
        np.array(['Colon'] * NUM, dtype=object),
        allow_pickle=True)
    with pytest.raises(ValueError, match='not unpickled'):
        _build(root)
    # The user may declare other tissues.
    np.save(files['types'], np.array(['Mars'] * NUM))
    assert len(_build(root, metainfo=dict(tissue_types=['Mars']))) == NUM


def _first_ids(masks, index):
    """(channel, id, pixel) of the first labelled instance in a tile, and a
    background pixel."""
    inst = masks[index, ..., :5]
    y, x, c = np.argwhere(inst > 0)[0]
    by, bx = np.argwhere(~(inst > 0).any(-1))[0]
    return c, inst[y, x, c], (y, x), (by, bx)


def test_refuses_id_shared_by_two_types(bad_copy):
    root, files = bad_copy
    masks = np.load(files['masks'])
    c, inst_id, _, (by, bx) = _first_ids(masks, 1)
    other = (c + 1) % 5
    masks[1, by, bx, other] = inst_id
    np.save(files['masks'], masks)
    dataset = _build(root)
    dataset[0]  # the intact tile still loads
    with pytest.raises(ValueError) as err:
        dataset[1]
    message = str(err.value)
    assert f'{files["masks"]}[1]' in message
    assert f'instance id {int(inst_id)} appears in channels' in message
    assert NUCLEI_TYPES[c] in message and NUCLEI_TYPES[other] in message
    assert 'strict=False' in message
    # CellViT's convention loads it: ids renumbered per channel.
    lenient = _build(
        root,
        pipeline=[dict(type='LoadPanNukeAnnotations', strict=False)])
    inst = lenient[1]['gt_inst_map']
    seg = lenient[1]['gt_seg_map']
    assert inst[by, bx] > 0 and seg[by, bx] == other + 1
    for i in np.unique(inst[inst > 0]):
        assert len(np.unique(seg[inst == i])) == 1


def test_refuses_pixel_in_two_types(bad_copy):
    root, files = bad_copy
    masks = np.load(files['masks'])
    c, inst_id, (y, x), _ = _first_ids(masks, 0)
    masks[0, y, x, (c + 2) % 5] = masks[0].max() + 1
    np.save(files['masks'], masks)
    with pytest.raises(ValueError) as err:
        _build(root)[0]
    message = str(err.value)
    assert f'{files["masks"]}[0]' in message
    assert f'pixel (y={y}, x={x}) is labelled in several' in message


def test_refuses_non_integer_ids(bad_copy):
    root, files = bad_copy
    masks = np.load(files['masks'])
    c, inst_id, (y, x), _ = _first_ids(masks, 0)
    masks[0, y, x, c] = inst_id + 0.5
    np.save(files['masks'], masks)
    with pytest.raises(ValueError, match=r'\[0\]: instance ids must be non'):
        _build(root)[0]


def test_refuses_out_of_range_image(bad_copy):
    root, files = bad_copy
    images = np.load(files['images'])
    images[1, 0, 0, 0] = 300.0
    np.save(files['images'], images)
    dataset = _build(root)
    with pytest.raises(ValueError) as err:
        dataset[1]
    assert f'{files["images"]}[1]' in str(err.value)
    assert '0..255' in str(err.value)


def test_refuses_mask_of_another_size_than_its_image(demo):
    """Checked against ``ori_shape`` (the image as loaded), so a ``Resize``
    before the annotations, as in mmseg test pipelines, is fine."""
    files = pannuke_fold_files(str(demo), 0)
    results = dict(
        img_path=files['images'],
        seg_map_path=files['masks'],
        img_index=0,
        seg_fields=[],
        img_shape=(128, 128),
        ori_shape=(256, 256))
    LoadPanNukeAnnotations()(dict(results))  # resized image: fine
    with pytest.raises(ValueError, match=r'\[0\]: mask size \(256, 256\)'):
        LoadPanNukeAnnotations()(dict(results, ori_shape=(200, 256)))
