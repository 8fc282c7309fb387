# Copyright (c) mmpathseg contributors. All rights reserved.
"""Overlays: instances in their type colour with contours, prompts,
referring targets with their expression, and the registered visualizer."""
import cv2
import numpy as np
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from mmpathseg.registry import VISUALIZERS
from mmpathseg.visualization import (PathSegLocalVisualizer, draw_instances,
                                     draw_prompted_mask, draw_referring,
                                     draw_semantic)

GREY = np.full((60, 80, 3), 128, np.uint8)
PALETTE = [(0, 0, 0), (255, 0, 0), (0, 255, 0)]


def _square(x, y, size=10):
    return np.array([[x, y], [x + size, y], [x + size, y + size],
                     [x, y + size]], np.int32)


def test_instances_are_filled_and_outlined_in_their_colour():
    out = draw_instances(GREY, [_square(5, 5), _square(40, 20)], [1, 2],
                         PALETTE, alpha=0.5)
    assert tuple(out[5, 5]) == (255, 0, 0)  # contour in the type colour
    assert tuple(out[20, 40]) == (0, 255, 0)
    assert tuple(out[10, 10]) == (192, 64, 64)  # 50 % fill
    assert tuple(out[50, 70]) == (128, 128, 128)  # untouched
    assert tuple(GREY[5, 5]) == (128, 128, 128)  # input not modified
    outline = draw_instances(GREY, [_square(5, 5)], [1], PALETTE, alpha=0)
    assert tuple(outline[10, 10]) == (128, 128, 128)


def test_semantic_overlay():
    sem = np.zeros((60, 80), np.int64)
    sem[10:30, 10:30] = 2
    out = draw_semantic(GREY, sem, PALETTE, alpha=1.0)
    assert tuple(out[20, 20]) == (0, 255, 0)
    assert tuple(out[50, 50]) == (128, 128, 128)


def test_prompt_drawing():
    mask = np.zeros((60, 80), bool)
    mask[20:40, 20:40] = True
    out = draw_prompted_mask(
        GREY, mask, boxes=[[15, 15, 45, 45]], points=[[30, 30], [70, 10]],
        point_labels=[1, 0])
    assert tuple(out[30, 30]) == (0, 255, 0)  # positive point
    assert tuple(out[10, 70]) == (255, 0, 0)  # negative point
    assert tuple(out[15, 30]) == (255, 255, 0)  # box edge
    assert not np.array_equal(out[25, 25], GREY[25, 25])  # mask blended


def test_referring_drawing_writes_the_expression():
    mask = np.zeros((60, 80), bool)
    mask[5:20, 5:20] = True
    out = draw_referring(GREY, [mask], 'the tumour region',
                         target_names=['tumour'])
    assert out.shape[1] == 80 and out.shape[0] > 60
    banner = out[:out.shape[0] - 60]
    assert (banner < 128).any()  # text pixels
    np.testing.assert_array_equal(out[-60:][50:, 50:], GREY[50:, 50:])
    rejected = draw_referring(GREY, [], 'the liver', rejected=True)
    assert rejected.shape[0] > out.shape[0] - 18  # two text lines
    red = (rejected[..., 0] > 200) & (rejected[..., 1] < 80)
    assert red[:rejected.shape[0] - 60].any()  # '[REJ]' in red


def test_visualizer_draws_gt_and_prediction(tmp_path):
    # An earlier test may have left another default scope (e.g. mmengine's)
    # in place; a runner always sets ours from the config.
    with DefaultScope.overwrite_default_scope('mmpathseg'):
        vis = VISUALIZERS.build(
            dict(type='PathSegLocalVisualizer', name='vis_test_draw',
                 save_dir=str(tmp_path)))
    assert isinstance(vis, PathSegLocalVisualizer)
    vis.dataset_meta = dict(classes=('bg', 'a', 'b'), palette=PALETTE)
    inst = np.zeros((60, 80), np.int64)
    inst[10:20, 10:20] = 1
    sample = SegDataSample()
    sample.gt_instance_map = PixelData(data=torch.from_numpy(inst)[None])
    sample.gt_sem_seg = PixelData(data=torch.from_numpy(inst * 2)[None])
    sample.pred_instances = InstanceData(
        labels=torch.tensor([1]), contours=[_square(40, 30)])
    out_file = str(tmp_path / 'x.png')
    vis.add_datasample('x', GREY, sample, out_file=out_file)
    drawn = cv2.imread(out_file)[..., ::-1]
    assert drawn.shape == (60, 160, 3)
    assert tuple(drawn[10, 10]) == (0, 255, 0)  # gt type 2 on the left
    assert tuple(drawn[30, 80 + 40]) == (255, 0, 0)  # prediction, type 1
    # Without instances it draws the class map as mmseg does.
    sem_sample = SegDataSample()
    sem_sample.pred_sem_seg = PixelData(data=torch.from_numpy(inst)[None])
    vis.add_datasample('y', GREY, sem_sample, out_file=str(tmp_path / 'y.png'))
    assert cv2.imread(str(tmp_path / 'y.png')).shape == (60, 80, 3)
