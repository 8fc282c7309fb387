# Copyright (c) mmpathseg contributors. All rights reserved.
"""Prompt generation on constructed masks: boxes and points land where they
must (hand-checked)."""
import numpy as np
import pytest

from mmpathseg.datasets.transforms import (GenerateBoxPrompt,
                                           GeneratePointPrompt, PromptResize)
from mmpathseg.datasets.transforms.prompt_geometry import (
    expand_box, largest_component, make_rng, mask_box, sample_points,
    translate_box)


def _two_blobs():
    mask = np.zeros((20, 30), np.uint8)
    mask[2:4, 3:5] = 1          # 4 px, box x 3..5, y 2..4
    mask[10:16, 20:28] = 1      # 48 px, box x 20..28, y 10..16
    return mask


def test_box_of_largest_component_is_exclusive():
    assert mask_box(_two_blobs()).tolist() == [20, 10, 28, 16]
    assert mask_box(_two_blobs(), largest=False).tolist() == [3, 2, 28, 16]


def test_diagonal_pixels_are_one_component():
    mask = np.zeros((5, 5), np.uint8)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = 1  # 8-connected chain
    mask[4, 4] = 1
    assert largest_component(mask).sum() == 3


def test_empty_mask_box_is_whole_image():
    assert mask_box(np.zeros((7, 9))).tolist() == [0, 0, 9, 7]


def test_translate_jitter_bounds_and_rigidity():
    box = np.array([20, 10, 28, 16], np.float32)  # w 8, h 6 -> m = 3
    rng = np.random.default_rng(0)
    shifts = set()
    for _ in range(300):
        out = translate_box(box, 5, rng)
        d = out - box
        assert d[0] == d[2] and d[1] == d[3]  # translated, not scaled
        assert -3 <= d[0] < 3 and -3 <= d[1] < 3
        shifts.add((int(d[0]), int(d[1])))
    assert len(shifts) == 36  # every (dx, dy) in [-3, 3)^2 occurs
    # max_pixel caps the shift; 0 (test) and tiny objects leave it alone.
    big = np.array([0, 0, 100, 100], np.float32)
    assert all(
        np.abs(translate_box(big, 2, rng) - big).max() <= 2
        for _ in range(50))
    assert (translate_box(big, 0, rng) == big).all()
    tiny = np.array([5, 5, 6, 6], np.float32)  # int(0.5 * 1) = 0
    assert (translate_box(tiny, 5, rng) == tiny).all()


def test_expand_jitter_goes_outwards_and_clips():
    box = np.array([1, 10, 28, 16], np.float32)
    rng = np.random.default_rng(1)
    for _ in range(100):
        x0, y0, x1, y1 = expand_box(box, 20, (20, 30), rng)
        assert 0 <= x0 <= 1 and 0 <= y0 <= 10
        assert 28 <= x1 <= 30 and 16 <= y1 <= 20


def test_points_inside_mask_and_negatives_outside():
    mask = _two_blobs()
    rng = np.random.default_rng(2)
    coords, labels = sample_points(mask, 50, rng)
    assert (labels == 1).all()
    assert mask[coords[:, 1].astype(int), coords[:, 0].astype(int)].all()
    coords, labels = sample_points(mask, 6, rng, num_negative=3)
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1, 1]
    values = mask[coords[:, 1].astype(int), coords[:, 0].astype(int)]
    assert (values == labels).all()
    # Empty mask: a background point labelled 0.
    coords, labels = sample_points(np.zeros((4, 4)), 1, rng)
    assert labels.tolist() == [0]


def test_fixed_seed_repeats_per_key():
    mask = _two_blobs()
    a = sample_points(mask, 3, make_rng(7, 'img_a'))[0]
    b = sample_points(mask, 3, make_rng(7, 'img_a'))[0]
    c = sample_points(mask, 3, make_rng(7, 'img_b'))[0]
    assert (a == b).all() and not (a == c).all()


def test_transforms_then_resize_scale_prompts():
    masks = np.stack([_two_blobs(), np.zeros((20, 30), np.uint8)])
    masks[1, 0:10, 0:15] = 1
    results = dict(
        img=np.zeros((20, 30, 3), np.uint8), gt_masks=masks, img_path='x')
    results = GenerateBoxPrompt()(results)
    assert results['gt_boxes'].tolist() == [[20, 10, 28, 16], [0, 0, 15, 10]]
    results = GeneratePointPrompt(seed=0)(results)
    assert results['gt_points'].shape == (2, 1, 2)
    # Longest side 30 -> 60: everything doubles.
    out = PromptResize(size=60)(dict(results))
    assert out['img'].shape[:2] == (40, 60)
    assert out['gt_masks'].shape == (2, 40, 60)
    assert out['gt_boxes'].tolist() == [[40, 20, 56, 32], [0, 0, 30, 20]]
    assert out['gt_masks'][0].sum() == 4 * masks[0].sum()
    assert out['valid_region'] == (0, 0, 60, 40)


def test_samed2d_mode_centre_pads_small_images():
    masks = np.zeros((1, 20, 30), np.uint8)
    masks[0, 5:7, 5:9] = 1
    results = dict(img=np.ones((20, 30, 3), np.uint8), gt_masks=masks,
                   gt_boxes=np.array([[5, 5, 9, 7]], np.float32))
    out = PromptResize(size=64, mode='samed2d')(results)
    # pad top (64-20)//2 = 22, left (64-30)//2 = 17
    assert out['valid_region'] == (17, 22, 47, 42)
    assert out['gt_boxes'].tolist() == [[22, 27, 26, 29]]
    assert out['gt_masks'][0, 27:29, 22:26].all()
    assert out['gt_masks'].sum() == 8
    assert out['img'][:22].sum() == 0


def test_bad_jitter_name():
    with pytest.raises(ValueError, match='jitter must be one of'):
        GenerateBoxPrompt(jitter='shift')
