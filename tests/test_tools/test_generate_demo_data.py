# Copyright (c) mmpathseg contributors. All rights reserved.
"""tools/misc/generate_demo_data.py: determinism, the PanNuke release layout
and its value conventions, and instance maps that are valid by
construction. Pure numpy: runs without mmcv."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from pannuke_demo import load_generator, make_pannuke_demo  # noqa: E402

gen = load_generator()
NUM = 2  # tiles per fold


@pytest.fixture(scope='module')
def demo(tmp_path_factory) -> Path:
    return make_pannuke_demo(tmp_path_factory.mktemp('demo'), NUM, seed=0)


@pytest.fixture(scope='module')
def many_tiles():
    """12 tiles in memory: enough to meet every nucleus type."""
    return gen.generate_fold(0, 12, seed=0)


def _files(root: Path):
    return sorted(p for p in root.rglob('*') if p.is_file())


def test_same_seed_same_bytes(demo, tmp_path):
    again = make_pannuke_demo(tmp_path / 'again', NUM, seed=0)
    first, second = _files(demo), _files(again)
    assert [p.relative_to(demo) for p in first] == \
        [p.relative_to(again) for p in second]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.relative_to(demo)


def test_rerun_in_place_is_idempotent(tmp_path):
    root = make_pannuke_demo(tmp_path, 1, seed=3, num_folds=1)
    before = {p: p.read_bytes() for p in _files(root)}
    make_pannuke_demo(tmp_path, 1, seed=3, num_folds=1)
    assert {p: p.read_bytes() for p in _files(root)} == before


def test_different_seed_differs():
    img_a, masks_a, _ = gen.generate_fold(0, 1, seed=0)
    img_b, masks_b, _ = gen.generate_fold(0, 1, seed=1)
    assert not np.array_equal(img_a, img_b)
    assert not np.array_equal(masks_a, masks_b)


def test_folds_differ_and_tiles_do_not_depend_on_fold_size():
    img0, masks0, types0 = gen.generate_fold(0, 3, seed=0)
    img1, _, _ = gen.generate_fold(1, 1, seed=0)
    assert not np.array_equal(img0[0], img1[0])
    small_img, small_masks, small_types = gen.generate_fold(0, 2, seed=0)
    np.testing.assert_array_equal(small_img, img0[:2])
    np.testing.assert_array_equal(small_masks, masks0[:2])
    assert list(small_types) == list(types0[:2])


def test_release_layout_and_dtypes(demo):
    for k in (1, 2, 3):
        img_dir = demo / f'Fold {k}' / 'images' / f'fold{k}'
        images = np.load(img_dir / 'images.npy', allow_pickle=False)
        types = np.load(img_dir / 'types.npy', allow_pickle=False)
        masks = np.load(
            demo / f'Fold {k}' / 'masks' / f'fold{k}' / 'masks.npy',
            allow_pickle=False)
        assert images.shape == (NUM, 256, 256, 3)
        assert images.dtype == np.float64
        assert masks.shape == (NUM, 256, 256, 6)
        assert masks.dtype == np.float64
        assert types.shape == (NUM, ) and types.dtype.kind == 'U'
        assert set(types) <= set(gen.TISSUE_TYPES)
        # 0..255 integer values stored as floats, as in the release.
        assert images.min() >= 0 and images.max() <= 255
        np.testing.assert_array_equal(images, np.rint(images))
        np.testing.assert_array_equal(masks, np.rint(masks))
    info = json.loads((demo / 'demo_info.json').read_text())
    assert info['seed'] == 0 and info['num_per_fold'] == NUM
    assert len(info['folds']) == 3


def test_fold_paths_follow_the_release():
    paths = gen.fold_paths('root', 0)
    assert Path(paths['images']) == Path('root/Fold 1/images/fold1/images.npy')
    assert Path(paths['types']) == Path('root/Fold 1/images/fold1/types.npy')
    assert Path(paths['masks']) == Path('root/Fold 1/masks/fold1/masks.npy')


def test_mask_conventions(many_tiles):
    """Channels 0..4 are disjoint instance maps with ids unique across
    channels; channel 5 is 1 exactly where no nucleus is."""
    _, masks, _ = many_tiles
    inst = masks[..., :5]
    labelled = inst > 0
    assert labelled.sum(-1).max() == 1, 'a pixel belongs to two instances'
    np.testing.assert_array_equal(masks[..., 5], ~labelled.any(-1))
    for tile in inst:
        ids = [set(np.unique(tile[..., c])) - {0} for c in range(5)]
        for c in range(5):
            for d in range(c + 1, 5):
                assert not ids[c] & ids[d], f'id shared by channels {c}, {d}'


def test_instances_are_connected_and_touching(many_tiles):
    _, masks, _ = many_tiles
    touching = 0
    for tile in masks:
        inst_map = tile[..., :5].sum(-1).astype(np.int64)
        ids = np.unique(inst_map)
        ids = ids[ids > 0]
        # Not contiguous, as in the release.
        assert ids.max() > len(ids) or len(ids) < 2
        objects = ndimage.find_objects(inst_map)
        for inst_id in ids:
            crop = inst_map[objects[inst_id - 1]] == inst_id
            assert ndimage.label(crop)[1] == 1, f'instance {inst_id} is split'
        # Touching: 4-neighbours that belong to two different instances.
        for a, b in ((inst_map[1:], inst_map[:-1]),
                     (inst_map[:, 1:], inst_map[:, :-1])):
            touching += int(((a != b) & (a > 0) & (b > 0)).sum())
    assert touching > 100


def test_all_types_and_their_looks(many_tiles):
    """Every type occurs, and types differ the way the docstring says:
    inflammatory nuclei are the smallest and darkest, neoplastic the
    largest, connective the most elongated."""
    images, masks, _ = many_tiles
    areas = {c: [] for c in range(5)}
    darkness = {c: [] for c in range(5)}
    elongation = {c: [] for c in range(5)}
    for img, tile in zip(images, masks):
        grey = img.mean(-1)
        for c in range(5):
            channel = tile[..., c].astype(np.int64)
            for inst_id in np.unique(channel[channel > 0]):
                ys, xs = np.nonzero(channel == inst_id)
                areas[c].append(len(ys))
                darkness[c].append(255 - grey[ys, xs].mean())
                if len(ys) > 5:
                    ev = np.linalg.eigvalsh(np.cov(np.stack([ys, xs])))
                    elongation[c].append(np.sqrt(ev[1] / max(ev[0], 1e-6)))
    assert all(areas[c] for c in range(5)), {c: len(areas[c]) for c in areas}
    med = {c: float(np.median(areas[c])) for c in range(5)}
    NEO, INF, CON, DEAD, EPI = range(5)
    assert med[INF] < med[EPI] < med[NEO]
    assert med[DEAD] < med[EPI]
    assert np.median(darkness[INF]) > np.median(darkness[EPI])
    assert np.median(elongation[CON]) > 2 * np.median(elongation[INF])


def test_tissue_types_are_pannukes():
    assert len(gen.TISSUE_TYPES) == 19
    assert list(gen.TISSUE_TYPES) == sorted(gen.TISSUE_TYPES, key=str.lower)
    assert set(gen._TISSUE_PROFILES) == set(gen.TISSUE_TYPES)


def test_cli(tmp_path, capsys):
    out = tmp_path / 'cli'
    info = gen.main(['--out', str(out), '--num-per-fold', '1',
                     '--num-folds', '2', '--seed', '5'])
    assert info['num_folds'] == 2 and info['seed'] == 5
    assert (out / 'Fold 2' / 'masks' / 'fold2' / 'masks.npy').is_file()
    assert not (out / 'Fold 3').exists()
    assert 'Wrote 2 folds x 1 tiles' in capsys.readouterr().out
    with pytest.raises(ValueError, match='num-per-fold'):
        gen.main(['--out', str(out), '--num-per-fold', '0'])
