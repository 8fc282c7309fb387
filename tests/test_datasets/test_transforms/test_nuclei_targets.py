# Copyright (c) mmpathseg contributors. All rights reserved.
"""HV targets: hand-worked values on known shapes, and equality with a
straightforward per-instance implementation of the published algorithm.

Conventions worked out by hand below (CellViT/HoVer-Net, ``grid_start=1``):
for an instance, ``cx = floor(mean(col) + 0.5)``, raw ``x = col - cx + 1``;
negative raw values are divided by the magnitude of the most negative one,
positive values by the largest one (same for rows / ``y``).
"""
import numpy as np
import pytest
from scipy.ndimage import center_of_mass

from mmpathseg.datasets.transforms import GenerateHVMap
from mmpathseg.datasets.transforms.nuclei_targets import instance_hv_map
from mmpathseg.registry import TRANSFORMS


def _hv(inst, **kwargs):
    return instance_hv_map(np.asarray(inst, np.int32), **kwargs)


def test_square_5x5():
    inst = np.zeros((10, 10), np.int32)
    inst[2:7, 3:8] = 4  # rows 2..6, cols 3..7: centre (4, 5)
    hv = _hv(inst)
    assert hv.shape == (2, 10, 10) and hv.dtype == np.float32
    # x raw = col - 5 + 1 = -1, 0, 1, 2, 3 -> -1, 0, 1/3, 2/3, 1
    expected = np.array([-1, 0, 1 / 3, 2 / 3, 1], np.float32)
    np.testing.assert_array_equal(hv[0, 2:7, 3:8], np.tile(expected, (5, 1)))
    np.testing.assert_array_equal(hv[1, 2:7, 3:8],
                                  np.tile(expected[:, None], (1, 5)))
    background = np.ones((10, 10), bool)
    background[2:7, 3:8] = False
    assert not hv[:, background].any()
    # Centred grid: raw -2..2 -> -1, -0.5, 0, 0.5, 1
    hv0 = _hv(inst, grid_start=0)
    np.testing.assert_array_equal(hv0[0, 4, 3:8], [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_array_equal(hv0[1, 2:7, 5], [-1, -0.5, 0, 0.5, 1])


def test_bar_1x3():
    inst = np.zeros((6, 6), np.int32)
    inst[4, 1:4] = 1  # centre (4, 2)
    hv = _hv(inst)
    # x raw = col - 2 + 1 = 0, 1, 2 -> 0, 0.5, 1; y raw = 4 - 4 + 1 = 1 -> 1
    np.testing.assert_array_equal(hv[0, 4, 1:4], [0, 0.5, 1])
    np.testing.assert_array_equal(hv[1, 4, 1:4], [1, 1, 1])
    hv0 = _hv(inst, grid_start=0)
    np.testing.assert_array_equal(hv0[0, 4, 1:4], [-1, 0, 1])
    np.testing.assert_array_equal(hv0[1, 4, 1:4], [0, 0, 0])
    # The vertical bar is the transpose.
    np.testing.assert_array_equal(_hv(inst.T)[::-1], hv.transpose(0, 2, 1))


def test_single_pixel():
    inst = np.zeros((5, 5), np.int32)
    inst[2, 3] = 9
    hv = _hv(inst)
    assert hv[:, 2, 3].tolist() == [1, 1]  # raw (1, 1)
    assert np.count_nonzero(hv) == 2
    assert not _hv(inst, grid_start=0).any()


def test_two_touching_instances():
    inst = np.zeros((5, 9), np.int32)
    inst[1:4, 1:4] = 1  # 3x3, centre (2, 2)
    inst[1:4, 4:8] = 2  # 3 rows x 4 cols touching it, centre (2, 5.5 -> 6)
    hv = _hv(inst)
    # id 1: x raw = col - 1 = 0, 1, 2 -> 0, 0.5, 1 (no negative side)
    np.testing.assert_array_equal(hv[0, 2, 1:4], [0, 0.5, 1])
    # id 2: x raw = col - 6 + 1 = -1, 0, 1, 2 -> -1, 0, 0.5, 1
    np.testing.assert_array_equal(hv[0, 2, 4:8], [-1, 0, 0.5, 1])
    # both: y raw = row - 1 = 0, 1, 2 -> 0, 0.5, 1
    np.testing.assert_array_equal(hv[1, 1:4, 2], [0, 0.5, 1])
    np.testing.assert_array_equal(hv[1, 1:4, 6], [0, 0.5, 1])
    # Centred: id 2 x raw = -2, -1, 0, 1 -> -1, -0.5, 0, 1 (sides separately)
    np.testing.assert_array_equal(
        _hv(inst, grid_start=0)[0, 2, 4:8], [-1, -0.5, 0, 1])


def test_l_shape_rounds_centre_of_mass():
    inst = np.zeros((8, 8), np.int32)
    pixels = [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2)]
    for r, c in pixels:
        inst[3 + r, 4 + c] = 5
    # mean row 3 + 1.4 -> 4; mean col 4 + 0.6 -> 5 (i.e. offsets (1, 1))
    # x raw = c_off - 1 + 1 = c_off: 0, 0, 0, 1, 2 -> 0, 0, 0, 0.5, 1
    # y raw = r_off: 0, 1, 2, 2, 2 -> 0, 0.5, 1, 1, 1
    hv = _hv(inst)
    rows = [3 + r for r, _ in pixels]
    cols = [4 + c for _, c in pixels]
    np.testing.assert_array_equal(hv[0, rows, cols], [0, 0, 0, 0.5, 1])
    np.testing.assert_array_equal(hv[1, rows, cols], [0, 0.5, 1, 1, 1])


def test_half_pixel_centre_rounds_up():
    inst = np.zeros((4, 6), np.int32)
    inst[1, 1:3] = 1  # mean col 1.5 -> 2: x raw = col - 1 = 0, 1
    np.testing.assert_array_equal(_hv(inst)[0, 1, 1:3], [0, 1])
    np.testing.assert_array_equal(_hv(inst, grid_start=0)[0, 1, 1:3],
                                  [-1, 0])


def test_min_size_and_edge_cases():
    inst = np.zeros((8, 8), np.int32)
    inst[0:2, 0:2] = 1  # 4 px
    inst[4:8, 4:8] = 2  # 16 px
    hv = _hv(inst, min_size=5)
    assert not hv[:, 0:2, 0:2].any()
    np.testing.assert_array_equal(hv[:, 4:8, 4:8], _hv(inst)[:, 4:8, 4:8])
    assert not _hv(np.zeros((3, 4))).any()
    with pytest.raises(ValueError, match='>= 0'):
        _hv(-inst)
    with pytest.raises(ValueError, match='integer'):
        instance_hv_map(inst.astype(np.float32))


def _reference_hv(inst_map):
    """Per-instance version, following the published steps: box grown by
    2 px, centre of mass of the crop rounded with int(x + 0.5), grid from 1,
    per-side normalisation."""
    height, width = inst_map.shape
    x_map = np.zeros((height, width), np.float32)
    y_map = np.zeros((height, width), np.float32)
    for inst_id in np.unique(inst_map)[1:]:
        mask = (inst_map == inst_id).astype(np.uint8)
        rows, cols = np.nonzero(mask)
        r0, r1 = rows.min(), rows.max() + 1
        c0, c1 = cols.min(), cols.max() + 1
        r0, c0 = (v - 2 if v >= 2 else v for v in (r0, c0))
        r1 = r1 + 2 if r1 <= height - 2 else r1
        c1 = c1 + 2 if c1 <= width - 2 else c1
        crop = mask[r0:r1, c0:c1]
        com_r, com_c = center_of_mass(crop)
        x_range = np.arange(1, crop.shape[1] + 1) - int(com_c + 0.5)
        y_range = np.arange(1, crop.shape[0] + 1) - int(com_r + 0.5)
        x, y = np.meshgrid(x_range, y_range)
        x = np.where(crop > 0, x, 0).astype(np.float32)
        y = np.where(crop > 0, y, 0).astype(np.float32)
        for m in (x, y):
            if m.min() < 0:
                m[m < 0] /= -m[m < 0].min()
            if m.max() > 0:
                m[m > 0] /= m[m > 0].max()
        inside = crop > 0
        x_map[r0:r1, c0:c1][inside] = x[inside]
        y_map[r0:r1, c0:c1][inside] = y[inside]
    return np.stack([x_map, y_map])


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_matches_per_instance_reference(nuclei_sample, seed):
    results, _ = nuclei_sample(height=48, width=80, num=25, seed=seed)
    inst = results['gt_inst_map']
    inst[0, :5] = 1000  # an instance on the border, large id
    np.testing.assert_array_equal(instance_hv_map(inst), _reference_hv(inst))


def test_nucls_matches_reference(nucls_samples):
    for sample in nucls_samples[:3]:
        inst = sample['gt_inst_map']
        np.testing.assert_array_equal(
            instance_hv_map(inst), _reference_hv(inst))


def test_transform(nuclei_sample):
    results, _ = nuclei_sample()
    transform = TRANSFORMS.build(dict(type='GenerateHVMap'))
    assert isinstance(transform, GenerateHVMap)
    out = transform(results)
    np.testing.assert_array_equal(out['gt_hv_map'],
                                  instance_hv_map(out['gt_inst_map']))
    assert out['gt_hv_map'].min() >= -1 and out['gt_hv_map'].max() <= 1
    with pytest.raises(KeyError, match='gt_inst_map'):
        transform(dict(img=results['img']))
    with pytest.raises(ValueError, match='grid_start'):
        GenerateHVMap(grid_start=2)
