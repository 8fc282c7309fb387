# Copyright (c) mmpathseg contributors. All rights reserved.
"""The pictures of ``tools/test.py --show-dir`` for the promptable, referring
and text-guided families, from data samples shaped as their models'
``predict`` returns them: masks where they belong, prompts at their
original-pixel position, the text banner drawn, dispatch by content."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData
from mmseg.structures import SegDataSample

from mmpathseg.registry import VISUALIZERS
from mmpathseg.structures import ReferringDataSample
from mmpathseg.visualization import (draw_promptable_sample,
                                     draw_referring_sample,
                                     draw_text_guided_sample, sample_kind)
from mmpathseg.visualization.draw import (NEGATIVE_COLOR, POSITIVE_COLOR,
                                          object_color)
from mmpathseg.visualization.layout import (text_banner, upscale_for_drawing,
                                            wrap_text)
from mmpathseg.visualization.sample_drawers import LESION_COLOR

H, W = 60, 80  # original image; drawn 4x (longer side 320 >= 256)
F = 4
GAP = 6
GREY = np.full((H, W, 3), 128, np.uint8)


def _panel(picture: np.ndarray, index: int) -> np.ndarray:
    """Panel ``index`` (left to right) of a picture: panels are the bottom
    ``F * H`` rows, ``F * W`` wide, ``GAP`` apart."""
    x0 = index * (F * W + GAP)
    return picture[-F * H:, x0:x0 + F * W]


def _header(picture: np.ndarray) -> np.ndarray:
    return picture[:-F * H]


def _draw_xy(x, y):
    """Original pixel -> centre of its block in the drawing."""
    return int(round((x + 0.5) * F - 0.5)), int(round((y + 0.5) * F - 0.5))


def _box(y0, y1, x0, x1, shape=(H, W)):
    mask = np.zeros(shape, bool)
    mask[y0:y1, x0:x1] = True
    return mask


# ---------------------------------------------------------------- layout
def test_upscale_and_wrap():
    big, factor = upscale_for_drawing(GREY, 256)
    assert factor == 4 and big.shape == (240, 320, 3)
    same, one = upscale_for_drawing(np.zeros((300, 200, 3), np.uint8), 256)
    assert one == 1 and same.shape == (300, 200, 3)
    text = 'Bilateral pulmonary infection, two infected areas, upper left ' \
        'lung and lower right lung.'
    lines = wrap_text(text, 150)
    assert len(lines) > 2 and ' '.join(lines) == text
    short = wrap_text(text, 150, max_lines=2)
    assert len(short) == 2 and short[-1].endswith('...')
    one_line = text_banner(400, [('x', (0, 0, 0))])
    assert text_banner(400, [(text, (0, 0, 0))]).shape[0] > one_line.shape[0]


# ------------------------------------------------------------ promptable
def _promptable_sample():
    """Two objects, predicted with a box and with 2 clicks; the input frame
    is the original scaled by 2 and shifted down by 10 px of padding (as
    ``PromptResize`` packs it)."""
    sample = SegDataSample(
        metainfo=dict(
            img_path='/data/ct_0001.png',
            ori_shape=(H, W),
            scale_factor=(2.0, 2.0),
            valid_region=(0, 10, 2 * W, 10 + 2 * H),
            mask_names=['ct_0001_liver_000', 'ct_0001_aorta_000']))
    gt = np.stack([_box(10, 30, 10, 30), _box(40, 50, 60, 70)])
    sample.ori_gt_masks = torch.from_numpy(gt)
    pred = torch.from_numpy(np.stack([_box(12, 30, 10, 30),
                                      np.zeros((H, W), bool)]))
    sample.pred_masks_box = pred
    sample.pred_masks_2pt = pred.clone()
    # Input frame = 2 * original + (0, 10).
    sample.prompt_boxes_box = torch.tensor([[20., 30., 60., 70.],
                                            [120., 90., 140., 110.]])
    sample.prompt_points_2pt = torch.tensor([[[100., 50.], [40., 90.]],
                                             [[130., 100.], [140., 110.]]])
    sample.prompt_point_labels_2pt = torch.tensor([[1, 0], [1, -1]])
    return sample


def test_promptable_picture_draws_masks_and_prompts():
    sample = _promptable_sample()
    assert sample_kind(sample) == 'promptable'
    picture = draw_promptable_sample(GREY, sample)
    assert picture.shape[1] == 3 * F * W + 2 * GAP  # gt | box | 2 clicks
    gt, box, clicks = (_panel(picture, i) for i in range(3))
    plain = np.full(3, 128, np.uint8)
    # Ground truth: both objects filled in their colours.
    assert not np.array_equal(gt[_draw_xy(20, 20)[::-1]], plain)
    assert not np.array_equal(gt[_draw_xy(65, 45)[::-1]], plain)
    # Box panel: the box of object 0, (10, 10, 30, 30) in original pixels,
    # on its top edge in object 0's colour; the mask blended inside.
    x, y = _draw_xy(20, 10)
    assert tuple(box[y, x]) == object_color(0)
    assert not np.array_equal(box[_draw_xy(20, 20)[::-1]], plain)
    np.testing.assert_array_equal(box[_draw_xy(45, 5)[::-1]], plain)
    # Click panel: input (100, 50) -> original (50, 20) positive (green),
    # (40, 90) -> (20, 40) negative (red); the padding click (label -1) of
    # object 1 at (70, 50) is not drawn.
    assert tuple(clicks[_draw_xy(50, 20)[::-1]]) == POSITIVE_COLOR
    assert tuple(clicks[_draw_xy(20, 40)[::-1]]) == NEGATIVE_COLOR
    assert tuple(clicks[_draw_xy(65, 45)[::-1]]) == POSITIVE_COLOR
    np.testing.assert_array_equal(clicks[_draw_xy(70, 50)[::-1]], plain)
    # Header: text, and the legend of object names in their colours.
    header = _header(picture)
    assert (header.max(axis=2) < 100).any()
    liver = np.all(np.abs(header.astype(int) - object_color(0)) < 40, axis=2)
    aorta = np.all(np.abs(header.astype(int) - object_color(1)) < 40, axis=2)
    assert liver.sum() > 20 and aorta.sum() > 20


def test_promptable_picture_without_gt_and_stored_prompts():
    """Samples without prompt_* fields fall back to gt_boxes / the first
    gt point; without ground truth only prediction panels are drawn."""
    sample = _promptable_sample()
    for key in ('ori_gt_masks', 'prompt_boxes_box', 'prompt_points_2pt',
                'prompt_point_labels_2pt'):
        sample.pop(key)
    sample.gt_boxes = torch.tensor([[20., 30., 60., 70.],
                                    [120., 90., 140., 110.]])
    sample.gt_points = torch.tensor([[[100., 50.]], [[130., 100.]]])
    sample.gt_point_labels = torch.ones(2, 1, dtype=torch.long)
    picture = draw_promptable_sample(GREY, sample, draw_gt=False)
    assert picture.shape[1] == 2 * F * W + GAP
    x, y = _draw_xy(20, 10)
    assert tuple(_panel(picture, 0)[y, x]) == object_color(0)
    assert tuple(_panel(picture, 1)[_draw_xy(50, 20)[::-1]]) == \
        POSITIVE_COLOR


# ------------------------------------------------------------- referring
def _referring_sample():
    sample = ReferringDataSample(
        metainfo=dict(
            img_path='/data/val_0003.png',
            ori_shape=(H, W),
            expression='the tumor nests and the necrosis',
            phrases=['the tumor nests', 'the necrosis'],
            ref_id=7))
    sample.gt_masks = torch.from_numpy(
        np.stack([_box(5, 25, 5, 25), np.zeros((H, W), bool)]))
    sample.gt_empty = torch.tensor([False, True])
    sample.pred_masks = torch.from_numpy(
        np.stack([_box(5, 25, 5, 25), _box(40, 55, 50, 75)]))
    sample.pred_rejected = torch.tensor([False, True])
    sample.pred_text = 'sure, the tumor nests [SEG] and the necrosis ' \
        '[REJ].</s><pad><pad>'
    return sample


def test_referring_picture():
    sample = _referring_sample()
    assert sample_kind(sample) == 'referring'
    picture = draw_referring_sample(GREY, sample)
    gt, pred = _panel(picture, 0), _panel(picture, 1)
    plain = np.full(3, 128, np.uint8)
    inside = _draw_xy(15, 15)[::-1]
    assert not np.array_equal(gt[inside], plain)
    np.testing.assert_array_equal(gt[inside], pred[inside])
    # Target 1 is rejected: its predicted mask is not drawn.
    np.testing.assert_array_equal(pred[_draw_xy(60, 48)[::-1]], plain)
    # Banner: the expression, answer and per-target decisions, the target
    # names in their colours.
    header = _header(picture)
    assert (header.max(axis=2) < 100).any()
    for t in (0, 1):
        near = np.all(np.abs(header.astype(int) - object_color(t)) < 40, 2)
        assert near.sum() > 20, t
    # A different expression gives a different banner, same panels.
    sample.set_metainfo(dict(expression='the stroma'))
    other = draw_referring_sample(GREY, sample)
    np.testing.assert_array_equal(_panel(other, 1), pred)
    assert not np.array_equal(_header(other)[:40], header[:40])


def test_referring_picture_accepts_a_wrong_decision_and_no_answer():
    sample = _referring_sample()
    sample.pred_rejected = torch.tensor([False, False])
    sample.pop('pred_text')
    picture = draw_referring_sample(GREY, sample)
    # Now the (wrongly) accepted target 1 is drawn in its colour.
    assert not np.array_equal(
        _panel(picture, 1)[_draw_xy(60, 48)[::-1]], np.full(3, 128))


# ----------------------------------------------------------- text-guided
def _text_sample(text='Unilateral pulmonary infection, one infected area, '
                 'upper left lung.', has_text=True):
    sample = SegDataSample(
        metainfo=dict(
            img_path='/data/xray_0001.png', ori_shape=(H, W),
            img_shape=(H, W), text=text, has_text=has_text))
    sample.gt_sem_seg = PixelData(
        data=torch.from_numpy(_box(10, 30, 10, 30).astype(np.int64))[None])
    sample.pred_sem_seg = PixelData(
        data=torch.from_numpy(_box(10, 30, 40, 60).astype(np.int64))[None])
    return sample


def test_text_guided_picture_has_the_report_banner():
    sample = _text_sample()
    assert sample_kind(sample) == 'text_guided'
    picture = draw_text_guided_sample(GREY, sample)
    gt, pred = _panel(picture, 0), _panel(picture, 1)
    # Lesion in its colour: outlined (the edge pixel) and blended inside.
    top = F * 10  # first drawn row of the masks
    assert tuple(gt[top, _draw_xy(20, 10)[0]]) == LESION_COLOR
    assert tuple(pred[top, _draw_xy(50, 10)[0]]) == LESION_COLOR
    assert not np.array_equal(pred[_draw_xy(50, 20)[::-1]], GREY[0, 0])
    np.testing.assert_array_equal(pred[_draw_xy(20, 20)[::-1]], GREY[0, 0])
    header = _header(picture)
    assert (header.max(axis=2) < 100).sum() > 100  # report text drawn
    no_report = draw_text_guided_sample(GREY, _text_sample(None, False))
    assert not np.array_equal(_header(no_report), header)
    long = draw_text_guided_sample(GREY, _text_sample(' '.join(['word'] *
                                                               200)))
    # Reports are shortened (3 lines), not drawn at any length.
    assert _header(long).shape[0] <= header.shape[0] + 3 * 18


def test_sample_kind_dispatch():
    assert sample_kind(None) == 'semantic'
    plain = SegDataSample()
    plain.pred_sem_seg = PixelData(data=torch.zeros(1, 4, 4))
    assert sample_kind(plain) == 'semantic'
    nuclei = SegDataSample()
    nuclei.pred_instances = InstanceData(labels=torch.tensor([1]),
                                         contours=[np.zeros((4, 2))])
    assert sample_kind(nuclei) == 'instances'
    assert sample_kind(_promptable_sample()) == 'promptable'
    assert sample_kind(_referring_sample()) == 'referring'
    assert sample_kind(_text_sample()) == 'text_guided'


# ------------------------------------------------------------ visualizer
@pytest.fixture
def visualizer(tmp_path):
    with DefaultScope.overwrite_default_scope('mmpathseg'):
        vis = VISUALIZERS.build(
            dict(type='PathSegLocalVisualizer', name='vis_family_pictures',
                 vis_backends=[dict(type='LocalVisBackend')],
                 save_dir=str(tmp_path)))
    return vis


def test_visualizer_writes_each_family(visualizer, tmp_path):
    visualizer.add_datasample('p', GREY, _promptable_sample(),
                              out_file=str(tmp_path / 'p.png'))
    p = cv2.imread(str(tmp_path / 'p.png'))
    assert p.shape[1] == 3 * F * W + 2 * GAP
    # Referring samples of one image get one picture per expression.
    sample = _referring_sample()
    visualizer.add_datasample('test_val_0003.png', GREY, sample, step=0)
    sample.set_metainfo(dict(ref_id=8))
    visualizer.add_datasample('test_val_0003.png', GREY, sample, step=0)
    written = sorted(p.name for p in tmp_path.rglob('test_val_0003*.png'))
    assert written == ['test_val_0003.png_ref7_0.png',
                       'test_val_0003.png_ref8_0.png']
    # Text-guided: a white palette foreground (binary masks) is replaced by
    # a visible colour; a coloured one is used.
    sample = _text_sample()
    visualizer.dataset_meta = dict(classes=('bg', 'lesion'),
                                   palette=[[0, 0, 0], [255, 255, 255]])
    visualizer.add_datasample('t', GREY, sample,
                              out_file=str(tmp_path / 't.png'))
    drawn = cv2.imread(str(tmp_path / 't.png'))[..., ::-1]
    assert tuple(_panel(drawn, 1)[F * 10, F * 50]) == LESION_COLOR
    visualizer.dataset_meta = dict(classes=('bg', 'lesion'),
                                   palette=[[0, 0, 0], [0, 0, 255]])
    visualizer.add_datasample('t', GREY, sample,
                              out_file=str(tmp_path / 't2.png'))
    drawn = cv2.imread(str(tmp_path / 't2.png'))[..., ::-1]
    assert tuple(_panel(drawn, 1)[F * 10, F * 50]) == (0, 0, 255)
