# Copyright (c) mmpathseg contributors. All rights reserved.
"""CoNICDataset on tiny generated releases: loading, source-level splits,
the 40x upscale-and-crop contract, and the refusal of inconsistent data
(each message names the file and the index)."""
import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpathseg.datasets import CONIC_CLASSES, CoNICDataset
from mmpathseg.datasets.conic_split import (conic_cohort, conic_source,
                                            read_split_file,
                                            source_level_split,
                                            write_split_file)
from mmpathseg.datasets.transforms.upscale_crop import (crop_offsets,
                                                        upscale_label_map)
from mmpathseg.registry import DATASETS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from nuclei_layouts import CONIC_SOURCES, conic_patch_names  # noqa: E402
from nuclei_layouts import make_conic  # noqa: E402

PIPELINE = [
    dict(type='LoadImageFromNpy', channel_order='rgb'),
    dict(type='LoadNucleiAnnotations'),
]
CROP_PIPELINE = PIPELINE + [dict(type='UpscaleCrop')]
NUM = len(conic_patch_names())


@pytest.fixture(autouse=True, scope='module')
def mmpathseg_scope():
    init_default_scope('mmpathseg')


@pytest.fixture(scope='module')
def conic(tmp_path_factory) -> Path:
    return make_conic(tmp_path_factory.mktemp('conic'), size=64)


@pytest.fixture(scope='module')
def conic256(tmp_path_factory) -> Path:
    """Three 256 px tiles (the real size) for the 40x geometry."""
    return make_conic(
        tmp_path_factory.mktemp('conic256'),
        size=256,
        num_nuclei=40,
        sources=dict(crag=(2, ), glas=(1, )))


@pytest.fixture
def broken(conic, tmp_path):
    """A writable copy of the release to break."""
    shutil.copytree(conic, tmp_path / 'conic')
    return tmp_path / 'conic'


def _build(root, split=None, pipeline=PIPELINE, **kwargs):
    # serialize_data=False: mmengine's serialisation runs gc.collect(),
    # ~0.4 s per dataset in a test process.
    return DATASETS.build(
        dict(
            type='CoNICDataset',
            data_root=str(root),
            split=split,
            pipeline=pipeline,
            serialize_data=False,
            **kwargs))


def _edit_labels(root, edit):
    labels = np.load(root / 'labels.npy')
    edit(labels)
    np.save(root / 'labels.npy', labels)


# --------------------------------------------------------------------------
# loading


def test_load_every_patch(conic):
    images = np.load(conic / 'images.npy')
    labels = np.load(conic / 'labels.npy')
    dataset = _build(conic)
    assert isinstance(dataset, CoNICDataset)
    assert len(dataset) == NUM
    assert dataset.metainfo['classes'] == ('background', ) + CONIC_CLASSES
    assert dataset.metainfo['tissue_types'] == ('Colon', )
    names = conic_patch_names()
    for i in (0, 7, NUM - 1):
        results = dataset[i]
        index = results['img_index']
        assert results['patch_name'] == names[index]
        assert results['source'] == names[index].rsplit('-', 1)[0]
        assert results['cohort'] == names[index].split('_')[0]
        assert (results['tissue'], results['tissue_label']) == ('Colon', 0)
        np.testing.assert_array_equal(results['img'], images[index])
        assert results['gt_inst_map'].dtype == np.int32
        assert results['gt_seg_map'].dtype == np.uint8
        assert results['gt_inst_map'].flags['C_CONTIGUOUS']
        np.testing.assert_array_equal(results['gt_inst_map'], labels[index,
                                                                     ..., 0])
        np.testing.assert_array_equal(results['gt_seg_map'], labels[index, ...,
                                                                    1])
        assert results['seg_fields'] == ['gt_seg_map', 'gt_inst_map']
        assert len(results['counts']) == 6


def test_uint16_labels_and_no_counts(tmp_path):
    root = make_conic(
        tmp_path, size=32, sources=dict(crag=(2, 1)), label_dtype=np.uint16)
    (root / 'counts.csv').unlink()
    dataset = _build(root)
    results = dataset[0]
    assert results['gt_inst_map'].dtype == np.int32
    assert 'counts' not in results


# --------------------------------------------------------------------------
# splits


def _split_sources(root, **kwargs):
    out = {}
    for split in ('train', 'val', 'test'):
        dataset = _build(root, split=split, pipeline=[], **kwargs)
        out[split] = [
            dataset.get_data_info(i)['patch_name']
            for i in range(len(dataset))
        ]
    return out


def test_split_is_source_level_deterministic_and_complete(conic):
    first = _split_sources(conic)
    assert _split_sources(conic) == first
    assert sorted(sum(first.values(), [])) == sorted(conic_patch_names())
    sources = {
        s: {conic_source(n)
            for n in names}
        for s, names in first.items()
    }
    assert not sources['train'] & sources['val']
    assert not sources['train'] & sources['test']
    assert not sources['val'] & sources['test']
    # Per cohort: round(0.2 n) test sources, round(0.2 rest) val sources.
    for cohort, patches in CONIC_SOURCES.items():
        n = len(patches)
        got = {
            s: len({x
                    for x in sources[s] if conic_cohort(x) == cohort})
            for s in sources
        }
        n_test = int(np.floor(0.2 * n + 0.5))
        assert got['test'] == n_test, cohort
        assert got['val'] == int(np.floor(0.2 * (n - n_test) + 0.5)), cohort
        assert got['train'] == n - got['test'] - got['val'], cohort


def test_split_ignores_patch_order_and_depends_on_seed():
    names = conic_patch_names()
    splits = dict(zip(names, source_level_split(names)))
    shuffled = list(reversed(names))
    assert dict(zip(shuffled, source_level_split(shuffled))) == splits
    others = [
        dict(zip(names, source_level_split(names, seed=s))) for s in (1, 2, 3)
    ]
    assert any(o != splits for o in others)
    # No stratification: the ratios apply to all 20 sources at once.
    flat = source_level_split(names, stratify=False)
    test_sources = {
        conic_source(n)
        for n, s in zip(names, flat) if s == 'test'
    }
    assert len(test_sources) == 4


def test_split_file_round_trip_and_refusals(broken):
    names = conic_patch_names()
    splits = source_level_split(names, seed=3)
    write_split_file(str(broken / 'my_split.csv'), names, splits)
    assert read_split_file(str(broken / 'my_split.csv'), names) == splits
    from_file = _split_sources(broken, split_file='my_split.csv')
    assert from_file == _split_sources(broken, split_seed=3)

    lines = (broken / 'my_split.csv').read_text().splitlines()
    # Move one patch of a source with several patches into another split.
    row = next(i for i, line in enumerate(lines)
               if line.startswith('consep_1-0001'))
    name, source, split = lines[row].split(',')
    other = 'test' if split != 'test' else 'train'
    leak = lines[:row] + [f'{name},{source},{other}'] + lines[row + 1:]
    (broken / 'leak.csv').write_text('\n'.join(leak) + '\n')
    with pytest.raises(
            ValueError,
            match=r"leak\.csv: source image 'consep_1' is in two "
            'splits'):
        _build(broken, split='train', split_file='leak.csv')
    (broken / 'short.csv').write_text('\n'.join(lines[:-1]) + '\n')
    with pytest.raises(
            ValueError,
            match=r'short\.csv: 1 patch\(es\) .* no '
            r"split, e.g. 'pannuke_2-0000'"):
        _build(broken, split='train', split_file='short.csv')
    (broken / 'bad.csv').write_text('\n'.join(
        lines[:2] + [lines[2].rsplit(',', 1)[0] + ',holdout'] + lines[3:]) +
                                    '\n')
    with pytest.raises(
            ValueError, match=r"bad\.csv, line 3: split "
            "'holdout'"):
        _build(broken, split='train', split_file='bad.csv')
    with pytest.raises(FileNotFoundError, match='conic.py'):
        _build(broken, split='train', split_file='absent.csv')


def test_bad_arguments(conic):
    with pytest.raises(ValueError, match="split='holdout' is not valid"):
        _build(conic, split='holdout')
    with pytest.raises(ValueError, match='needs `data_root`'):
        DATASETS.build(dict(type='CoNICDataset', serialize_data=False))
    with pytest.raises(ValueError, match='upscale=.* is not valid'):
        _build(conic, upscale=dict(mode='zoom'))
    with pytest.raises(ValueError, match='upscale=.* is not valid'):
        _build(conic, upscale=dict(mode='crops', scale=480))
    with pytest.raises(ValueError, match='not "<source image>-<patch'):
        source_level_split(['consep_1_0000'])


# --------------------------------------------------------------------------
# refusals of inconsistent data


def _first_error(root, index=0, **kwargs):
    dataset = _build(root, **kwargs)
    position = [
        dataset.get_data_info(i)['img_index'] for i in range(len(dataset))
    ].index(index)
    with pytest.raises(ValueError) as err:
        dataset[position]
    return str(err.value)


def _labels_path(root, index):
    return re.escape(f'{root / "labels.npy"}[{index}]')


def test_refuses_instance_with_two_classes(broken):
    labels = np.load(broken / 'labels.npy')
    inst, types = labels[4, ..., 0], labels[4, ..., 1]
    target = int(np.bincount(inst[inst > 0]).argmax())
    ys, xs = np.nonzero(inst == target)
    old = int(types[ys[0], xs[0]])
    new = old % 6 + 1

    def edit(array):
        array[4, ys[-1], xs[-1], 1] = new

    _edit_labels(broken, edit)
    message = _first_error(broken, 4)
    assert re.search(_labels_path(broken, 4), message)
    assert f'instance id {target} has two nucleus types' in message
    assert 'must not be shared by two classes' in message
    # validate=False loads it as it is.
    dataset = _build(
        broken,
        pipeline=[
            dict(type='LoadImageFromNpy'),
            dict(type='LoadNucleiAnnotations', validate=False)
        ])
    position = [
        dataset.get_data_info(i)['img_index'] for i in range(len(dataset))
    ].index(4)
    assert dataset[position]['gt_seg_map'][ys[-1], xs[-1]] == new


def test_refuses_type_outside_classes(broken):
    labels = np.load(broken / 'labels.npy')
    y, x = np.argwhere(labels[2, ..., 0] > 0)[0]

    def edit(array):
        array[2, ..., 1][array[2, ..., 0] == array[2, y, x, 0]] = 7

    _edit_labels(broken, edit)
    message = _first_error(broken, 2)
    assert re.search(_labels_path(broken, 2), message)
    assert 'type id 7' in message and 'within 0..6' in message


def test_refuses_type_without_instance_and_instance_without_type(broken):
    labels = np.load(broken / 'labels.npy')
    y, x = np.argwhere(labels[1, ..., 0] == 0)[0]
    fy, fx = np.argwhere(labels[3, ..., 0] > 0)[0]

    def edit(array):
        array[1, y, x, 1] = 3
        array[3, fy, fx, 1] = 0

    _edit_labels(broken, edit)
    message = _first_error(broken, 1)
    assert re.search(_labels_path(broken, 1), message)
    assert f'pixel (y={y}, x={x}) has type 3 but no instance' in message
    message = _first_error(broken, 3)
    assert re.search(_labels_path(broken, 3), message)
    assert 'has pixels of type 0 (background)' in message


def test_refuses_inconsistent_release_files(broken):
    images = np.load(broken / 'images.npy')
    np.save(broken / 'images.npy', images[:-1])
    with pytest.raises(
            ValueError,
            match='the number of patches and their '
            'height/width must match'):
        _build(broken)
    np.save(broken / 'images.npy', images[:, :-2])
    with pytest.raises(ValueError, match='height/width must match'):
        _build(broken)
    np.save(broken / 'images.npy', images)
    labels = np.load(broken / 'labels.npy')
    np.save(broken / 'labels.npy', labels[..., :1])
    with pytest.raises(
            ValueError, match=r'labels\.npy: expected \(N, H, W, '
            r'2\)'):
        _build(broken)
    np.save(broken / 'labels.npy', labels)
    lines = (broken / 'patch_info.csv').read_text().splitlines()
    (broken / 'patch_info.csv').write_text('\n'.join(lines[:-1]) + '\n')
    with pytest.raises(
            ValueError, match=r'patch_info\.csv names '
            f'{NUM - 1} patches'):
        _build(broken)
    (broken / 'patch_info.csv').write_text('\n'.join(lines + lines[-1:]))
    with pytest.raises(ValueError, match='names must be unique'):
        _build(broken)
    (broken / 'patch_info.csv').write_text('\n'.join(lines) + '\n')
    np.save(broken / 'labels.npy', labels.astype(object))
    with pytest.raises(ValueError, match='not a plain numeric array'):
        _build(broken)
    (broken / 'labels.npy').unlink()
    with pytest.raises(FileNotFoundError, match=r'labels\.npy is missing'):
        _build(broken)


def test_refuses_counts_of_wrong_length(broken):
    lines = (broken / 'counts.csv').read_text().splitlines()
    (broken / 'counts.csv').write_text('\n'.join(lines[:-2]) + '\n')
    with pytest.raises(ValueError, match=rf'counts\.csv has {NUM - 2} rows'):
        _build(broken)


# --------------------------------------------------------------------------
# 40x: upscale to 480 px, 2 x 2 crops of 256 with stride 224

OFFSETS = [(0, 0), (0, 224), (224, 0), (224, 224)]


def test_crop_geometry_matches_the_merger():
    assert crop_offsets(480, 256, 224) == OFFSETS
    from mmpathseg.postprocessing.tiling import (resize_label_map,
                                                 tile_origins)
    for args in (((480, 480), 256, 224), ((100, 70), 32, 20), (64, 64, 64)):
        assert crop_offsets(*args) == tile_origins(*args)
    labels = np.random.default_rng(0).integers(0, 50,
                                               (256, 256)).astype(np.int32)
    up = upscale_label_map(labels, (480, 480))
    np.testing.assert_array_equal(up, resize_label_map(labels, (480, 480)))
    np.testing.assert_array_equal(resize_label_map(up, (256, 256)), labels)


def test_40x_crops(conic256):
    images = np.load(conic256 / 'images.npy')
    labels = np.load(conic256 / 'labels.npy')
    dataset = _build(
        conic256,
        pipeline=CROP_PIPELINE,
        upscale=dict(mode='crops', size=480, crop_size=256, stride=224))
    assert len(dataset) == 4 * len(images)
    seen = defaultdict(list)
    for i in range(len(dataset)):
        results = dataset[i]
        tile = results['tile_index']
        assert tile == results['img_index']
        seen[tile].append(results['crop_index'])
        y, x = results['crop_offset']
        assert (y, x) == OFFSETS[results['crop_index']]
        assert results['upsampled_shape'] == (480, 480)
        assert results['crop_size'] == (256, 256)
        assert results['num_crops'] == 4
        assert results['tile_shape'] == (256, 256)
        assert results['img_shape'] == results['ori_shape'] == (256, 256)
        assert results['scale_factor'] == (480 / 256, 480 / 256)
        up = cv2.resize(
            images[tile], (480, 480), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(results['img'], up[y:y + 256, x:x + 256])
        for key, channel in (('gt_inst_map', 0), ('gt_seg_map', 1)):
            up = upscale_label_map(labels[tile, ..., channel], (480, 480))
            np.testing.assert_array_equal(results[key], up[y:y + 256,
                                                           x:x + 256])
        # Ids and their single type survive.
        inst, types = results['gt_inst_map'], results['gt_seg_map']
        for inst_id in np.unique(inst[inst > 0])[:10]:
            assert np.unique(types[inst == inst_id]).size == 1
    assert all(sorted(v) == [0, 1, 2, 3] for v in seen.values())


def test_40x_crops_merge_back_to_the_tile(conic256):
    """The contract with post-processing: the crops of a tile, pasted at
    their offsets and resized to the tile, give the tile back."""
    from mmpathseg.postprocessing import InstanceTileMerger
    labels = np.load(conic256 / 'labels.npy')
    dataset = _build(
        conic256, pipeline=CROP_PIPELINE, upscale=dict(mode='crops'))
    mergers = {}
    for i in range(len(dataset)):
        results = dataset[i]
        merger = mergers.setdefault(
            results['tile_index'],
            InstanceTileMerger(results['upsampled_shape']))
        inst = results['gt_inst_map']
        ids = np.unique(inst[inst > 0])
        types = np.array([results['gt_seg_map'][inst == i][0] for i in ids])
        merger.add(inst, results['crop_offset'], ids, types)
    for tile, merger in mergers.items():
        merged = merger.result(output_shape=results['tile_shape'])
        inst, types = labels[tile, ..., 0], labels[tile, ..., 1]
        # Same partition of the pixels (ids may differ) and the same types.
        pairs = np.unique(
            np.stack([inst.ravel(), merged['inst_map'].ravel()]), axis=1)
        assert pairs.shape[1] == np.unique(inst).size
        assert np.unique(pairs[0]).size == np.unique(pairs[1]).size
        np.testing.assert_array_equal(merged['type_map'], types)


def test_40x_tile_mode(conic256):
    images = np.load(conic256 / 'images.npy')
    dataset = _build(conic256, upscale=dict(mode='tile'))
    assert len(dataset) == len(images)
    results = dataset[1]
    assert results['tile_index'] == results['img_index'] == 1
    assert results['upsampled_shape'] == (480, 480)
    assert results['crop_size'] == (256, 256)
    assert list(results['crop_offsets']) == OFFSETS
    assert results['ori_shape'] == results['img'].shape[:2] == (256, 256)
    assert results['gt_inst_map'].shape == (256, 256)
    np.testing.assert_array_equal(results['img'], images[1])


def test_40x_refusals(conic256):
    with pytest.raises(ValueError, match="add dict\\(type='UpscaleCrop'\\)"):
        _build(conic256, upscale=dict(mode='crops'))
    dataset = _build(
        conic256, pipeline=CROP_PIPELINE, upscale=dict(mode='tile'))
    with pytest.raises(KeyError, match='UpscaleCrop needs'):
        dataset[0]
    with pytest.raises(ValueError, match='larger than the image'):
        _build(conic256, upscale=dict(mode='tile', size=200))
