# Copyright (c) mmpathseg contributors. All rights reserved.
"""Synthetic nuclei samples and the instance-consistency check shared by the
transform tests."""
import copy
from pathlib import Path

import cv2
import numpy as np
import pytest


def make_nuclei_sample(height: int = 64,
                       width: int = 64,
                       num: int = 15,
                       seed: int = 0) -> dict:
    """A pipeline results dict with random elliptic nuclei.

    Ids are deliberately not contiguous (``7 * k + 3``); each nucleus has a
    type in 1..5; later nuclei overlap earlier ones. The image is noise with
    darker nuclei (BGR uint8).
    """
    rng = np.random.default_rng(seed)
    inst = np.zeros((height, width), np.int32)
    for k in range(num):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(2, 7)), int(rng.integers(2, 7)))
        cv2.ellipse(inst, centre, axes, float(rng.uniform(0, 180)), 0, 360,
                    7 * k + 3, -1)
    ids = np.unique(inst)[1:]
    type_of = {int(i): int(rng.integers(1, 6)) for i in ids}
    types = np.zeros((height, width), np.uint8)
    for i, t in type_of.items():
        types[inst == i] = t
    img = rng.integers(150, 256, (height, width, 3)).astype(np.uint8)
    img[inst > 0] //= 2
    return dict(
        img=img,
        img_shape=(height, width),
        ori_shape=(height, width),
        gt_seg_map=types,
        gt_inst_map=inst,
        seg_fields=['gt_seg_map', 'gt_inst_map'])


def assert_instances_consistent(before: dict, after: dict) -> None:
    """Ids after are a subset of ids before, every instance keeps the single
    type it had, and type/instance maps agree on the background."""
    inst, types = after['gt_inst_map'], after['gt_seg_map']
    assert inst.dtype == before['gt_inst_map'].dtype
    assert types.dtype == before['gt_seg_map'].dtype
    assert inst.shape == types.shape == after['img'].shape[:2]
    ids_before = np.unique(before['gt_inst_map'])
    ids_after = np.unique(inst)
    assert set(ids_after.tolist()) <= set(ids_before.tolist())
    type_before = {
        int(i): int(before['gt_seg_map'][before['gt_inst_map'] == i][0])
        for i in ids_before
    }
    for i in ids_after:
        found = np.unique(types[inst == i])
        assert found.tolist() == [type_before[int(i)]], (i, found)


@pytest.fixture
def nuclei_sample():
    """Factory: ``nuclei_sample(**kwargs)`` -> (results, deep copy)."""

    def factory(**kwargs):
        results = make_nuclei_sample(**kwargs)
        return results, copy.deepcopy(results)

    return factory


@pytest.fixture
def check_instances():
    return assert_instances_consistent


@pytest.fixture(scope='session')
def nucls_samples(shared_fixtures):
    """The NuCLS tiles as results dicts (BGR image, type and instance maps);
    skipped when the shared fixtures are absent."""
    root = Path(shared_fixtures) / 'nucls'
    if not root.is_dir():
        pytest.skip(f'NuCLS fixture folder {root} not found')
    samples = []
    for label in sorted((root / 'labels').glob('*.npz')):
        image = root / 'images' / (label.stem + '.png')
        with np.load(label, allow_pickle=False) as arrays:
            inst, types = arrays['inst_map'], arrays['type_map']
        img = cv2.imread(str(image), cv2.IMREAD_COLOR)
        samples.append(
            dict(
                img=img,
                img_path=str(image),
                img_shape=img.shape[:2],
                ori_shape=img.shape[:2],
                gt_seg_map=types,
                gt_inst_map=inst,
                seg_fields=['gt_seg_map', 'gt_inst_map']))
    return samples
