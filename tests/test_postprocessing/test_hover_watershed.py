# Copyright (c) mmpathseg contributors. All rights reserved.
"""The HoVer-Net watershed on hand-built NP/HV maps, and against the
per-instance reference of ``tools/analysis_tools/benchmark_postprocessing``
on random synthetic tiles."""
import cv2
import numpy as np
import pytest
from scipy import ndimage

from mmpathseg.postprocessing import foreground_mask, hover_watershed
from mmpathseg.postprocessing.hovernet_watershed import (
    fill_holes, remove_small_labels)
from tools.analysis_tools.benchmark_postprocessing import (
    hv_targets, reference_watershed, synthetic_instances, synthetic_outputs)


def disc(shape, centre, radius):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (xx - centre[0])**2 + (yy - centre[1])**2 <= radius**2


def two_touching_discs():
    """Discs of radius 8 at x = 20 and x = 34 (y = 24), overlapping; each
    pixel belongs to the nearer centre, so the seam is the column x = 27."""
    shape = (48, 56)
    left, right = disc(shape, (20, 24), 8), disc(shape, (34, 24), 8)
    xx = np.mgrid[:shape[0], :shape[1]][1]
    inst = np.zeros(shape, np.int32)
    inst[left & (xx <= 27)] = 1
    inst[right & (xx > 27)] = 2
    return inst


def test_two_touching_discs_split_into_two():
    gt = two_touching_discs()
    fg = gt > 0
    # One connected blob: only the HV map can separate the nuclei.
    assert ndimage.label(fg)[1] == 1
    inst = hover_watershed(fg, hv_targets(gt))
    ids = np.unique(inst[inst > 0])
    assert ids.size == 2
    assert np.array_equal(inst > 0, fg)  # one marker per disc floods it all
    for gid in (1, 2):
        # Each predicted nucleus is one GT disc (IoU > 0.9).
        pid = np.bincount(inst[gt == gid]).argmax()
        inter = np.sum((inst == pid) & (gt == gid))
        union = np.sum((inst == pid) | (gt == gid))
        assert inter / union > 0.9
    # Mirror symmetry about x = 27 of the input gives centroids mirrored.
    cx = [np.nonzero(inst == i)[1].mean() for i in ids]
    assert sorted(cx)[0] == pytest.approx(54 - sorted(cx)[1], abs=0.5)


def test_single_blob_is_one_instance_with_all_its_pixels():
    fg = disc((40, 40), (20, 18), 9)
    inst = hover_watershed(fg, hv_targets(fg.astype(np.int32)))
    assert np.unique(inst).tolist() == [0, 1]
    assert np.array_equal(inst == 1, fg)
    assert inst.dtype == np.int32


def test_empty_input_gives_empty_map():
    inst = hover_watershed(
        np.zeros((32, 32), bool), np.zeros((2, 32, 32), np.float32))
    assert inst.shape == (32, 32) and not inst.any()


def test_min_blob_size_drops_small_blobs_before_everything():
    fg = np.zeros((30, 30), bool)
    fg[2:5, 2:5] = True  # 9 px: dropped
    fg[10:12, 10:15] = True  # 10 px: kept as a blob
    _, steps = hover_watershed(
        fg, np.zeros((2, 30, 30), np.float32), return_intermediates=True)
    assert not steps['blobs'][2:5, 2:5].any()
    assert steps['blobs'][10:12, 10:15].all()
    assert steps['blobs'].sum() == 10
    # With a threshold of 9 the 3x3 blob survives.
    _, steps = hover_watershed(
        fg, np.zeros((2, 30, 30), np.float32), min_blob_size=9,
        return_intermediates=True)
    assert steps['blobs'].sum() == 19


def test_min_marker_size_drops_small_markers():
    # Without the marker opening (ksize 1) the small nucleus keeps a 9 px
    # marker: dropped with the 40x size (10), kept with the 20x size (3).
    gt = np.zeros((24, 48), np.int32)
    gt[8:11, 6:10] = 1  # 12 px
    gt[6:16, 24:36] = 2  # 120 px
    kw = dict(sobel_ksize=11, marker_open_ksize=1, min_blob_size=1)
    inst10, steps = hover_watershed(
        gt > 0, hv_targets(gt), min_marker_size=10,
        return_intermediates=True, **kw)
    inst3 = hover_watershed(gt > 0, hv_targets(gt), min_marker_size=3, **kw)
    assert np.unique(inst10).tolist() == [0, 2]
    assert not inst10[gt == 1].any() and (inst10[gt == 2] == 2).all()
    assert np.unique(inst3).tolist() == [0, 1, 2]
    assert (inst3[gt == 1] == 1).all() and (inst3[gt == 2] == 2).all()
    # Ids are the marker labels, not renumbered.
    assert np.unique(steps['markers']).tolist() == [0, 2]


def test_foreground_mask_modes():
    probs = np.array([[0.2, 0.5, 0.7]], np.float32)
    two = np.stack([1 - probs, probs])
    # argmax (CellViT): ties go to background.
    assert foreground_mask(two, 'argmax').tolist() == [[False, False, True]]
    assert foreground_mask(probs, 'argmax').tolist() == [[False, False, True]]
    # prob (HoVer-Net): p >= thresh.
    assert foreground_mask(two, 'prob').tolist() == [[False, True, True]]
    assert foreground_mask(probs[None], 'prob', 0.6).tolist() == [[False,
                                                                  False,
                                                                  True]]
    with pytest.raises(ValueError, match='np_mode'):
        foreground_mask(probs, 'softmax')
    with pytest.raises(ValueError, match=r'\(2, H, W\)'):
        foreground_mask(np.zeros((3, 4, 4)))


def test_bad_hv_shape_is_named():
    with pytest.raises(ValueError, match='hv_map'):
        hover_watershed(np.zeros((8, 8), bool), np.zeros((8, 8)))
    with pytest.raises(ValueError, match='same'):
        hover_watershed(np.zeros((8, 8), bool), np.zeros((2, 8, 9)))


def test_fill_holes_and_remove_small_match_scipy_skimage():
    rng = np.random.default_rng(3)
    for _ in range(20):
        shape = tuple(rng.integers(1, 60, 2))
        mask = rng.random(shape) < rng.uniform(0.3, 0.8)
        assert np.array_equal(fill_holes(mask),
                              ndimage.binary_fill_holes(mask))
        labels = ndimage.label(mask)[0]
        sizes = np.bincount(labels.ravel())
        expected = np.where((sizes >= 3)[labels], labels, 0)
        expected[labels == 0] = 0
        assert np.array_equal(remove_small_labels(labels.copy(), 3), expected)


@pytest.mark.parametrize('seed,size,nuclei', [(0, 256, 100), (1, 256, 100),
                                              (2, 160, 60)])
def test_identical_to_reference_on_synthetic_tiles(seed, size, nuclei):
    gt_inst, gt_type = synthetic_instances(size, nuclei, seed=seed)
    np_map, hv_map, _ = synthetic_outputs(gt_inst, gt_type, seed=seed)
    ref = reference_watershed(
        np.argmax(np_map, axis=0).astype(np.float32), hv_map)
    ours = hover_watershed(foreground_mask(np_map, 'argmax'), hv_map)
    assert np.array_equal(ours, ref)
    assert len(np.unique(ours)) > 0.8 * nuclei
    # HoVer-Net's probability input and the 20x preset as well.
    ref = reference_watershed(np_map[1], hv_map, ksize=11, object_size=3)
    ours = hover_watershed(
        foreground_mask(np_map, 'prob'), hv_map, sobel_ksize=11,
        min_marker_size=3)
    assert np.array_equal(ours, ref)


def test_opening_makes_interior_markers_at_least_17_px():
    # Why min_marker_size 10 (40x) vs 3 (20x) rarely matters: an opening
    # with the 5x5 ellipse (17 px) leaves no smaller marker away from the
    # image border.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    assert kernel.sum() == 17
    rng = np.random.default_rng(0)
    mask = (rng.random((60, 60)) < 0.6).astype(np.uint8)
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    labels, num = ndimage.label(opened)
    objects = ndimage.find_objects(labels)
    sizes = np.bincount(labels.ravel())
    for i, (rows, cols) in enumerate(objects, start=1):
        if rows.start > 0 and cols.start > 0 and rows.stop < 60 and \
                cols.stop < 60:
            assert sizes[i] >= 17
