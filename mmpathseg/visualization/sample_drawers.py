# Copyright (c) mmpathseg contributors. All rights reserved.
"""Pictures of whole data samples, one function per family, chosen by what
the sample contains (:func:`sample_kind`), not by the model or config.

These are what ``tools/test.py --show-dir`` writes through
:class:`~mmpathseg.visualization.PathSegLocalVisualizer`:

- ``'promptable'`` (``pred_masks_<mode>``; SAM, MedSAM, SAM-Med2D,
  SyncSAM): ground truth, then one panel per prompt mode (box, 1 click,
  5 clicks) with every object's mask and the prompt that produced it;
- ``'referring'`` (``pred_masks`` + ``pred_rejected``; LISA, GSVA, LTSE):
  ground-truth and predicted targets under the expression, the generated
  answer and each target's [SEG]/[REJ] decision;
- ``'text_guided'`` (``pred_sem_seg`` with a ``text`` / ``has_text``
  metainfo; Ariadne's Thread, MLMoE): ground truth and prediction under
  the report.

Nuclei instances (``'instances'``) and plain class maps (``'semantic'``)
are drawn by the visualizer itself and by mmseg.

Images smaller than ``min_size`` are upscaled by an integer factor first
(:func:`~mmpathseg.visualization.layout.upscale_for_drawing`) so that masks,
clicks and text stay legible; masks are resized by nearest neighbour and
prompts scaled to pixel centres.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from .draw import (draw_masks, draw_object_prompts, draw_semantic,
                   object_color)
from .layout import (TEXT_COLOR, Color, TextLine, add_title, drawing_scale,
                     hstack_panels,
                     legend_banner, resize_nearest, text_banner,
                     upscale_for_drawing)

KINDS = ('instances', 'promptable', 'referring', 'text_guided', 'semantic')
#: Grey of secondary text (answers, hints).
MUTED_COLOR: Color = (90, 90, 90)
#: Colour of a text-guided lesion mask when the dataset has no palette.
LESION_COLOR: Color = (255, 64, 64)


def sample_kind(sample) -> str:
    """Which family's picture a data sample gets, from its fields.

    Returns:
        str: One of :data:`KINDS`; ``'semantic'`` for anything else (mmseg
        draws it).
    """
    if sample is None:
        return 'semantic'
    if 'pred_instances' in sample and \
            'contours' in sample.pred_instances:
        return 'instances'
    if any(key.startswith('pred_masks_') for key in sample.keys()):
        return 'promptable'
    if 'pred_masks' in sample and ('pred_rejected' in sample
                                   or 'expression' in sample.metainfo):
        return 'referring'
    if 'pred_sem_seg' in sample and ('has_text' in sample.metainfo
                                     or 'text' in sample.metainfo):
        return 'text_guided'
    return 'semantic'


# ---------------------------------------------------------------------- #
# Helpers
# ---------------------------------------------------------------------- #
def _numpy(value) -> np.ndarray:
    if hasattr(value, 'data') and not isinstance(value, torch.Tensor):
        value = value.data  # PixelData
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _masks_to(masks, height: int, width: int) -> List[np.ndarray]:
    """``(K, h, w)`` masks -> list of ``(height, width)`` bool."""
    return [
        resize_nearest(np.asarray(m).astype(bool), height, width)
        for m in _numpy(masks)
    ]


def _dice(pred: np.ndarray, gt: np.ndarray) -> float:
    total = int(pred.sum()) + int(gt.sum())
    return 1.0 if total == 0 else 2.0 * int((pred & gt).sum()) / total


def _mean_dice(preds: Sequence[np.ndarray],
               gts: Sequence[np.ndarray]) -> Optional[float]:
    if not gts or len(preds) != len(gts):
        return None
    return float(np.mean([_dice(p, g) for p, g in zip(preds, gts)]))


def _image_title(sample) -> str:
    path = sample.metainfo.get('img_path')
    return osp.basename(path) if path else ''


def _compose(header: Sequence[TextLine],
             panels: Sequence[np.ndarray],
             legend: Sequence[TextLine] = (),
             max_lines_each: Optional[int] = None,
             scale: float = 0.5) -> np.ndarray:
    """Panels side by side under a text header and a coloured legend."""
    body = hstack_panels(panels)
    parts = []
    if header:
        parts.append(
            text_banner(body.shape[1], header, scale, max_lines_each))
    if legend:
        parts.append(legend_banner(body.shape[1], legend, scale))
    return np.concatenate(parts + [body], axis=0)


# ---------------------------------------------------------------------- #
# Promptable
# ---------------------------------------------------------------------- #
def prompt_modes(sample) -> List[str]:
    """The prompt modes predicted in ``sample`` (``pred_masks_<mode>``):
    ``'box'`` first, then clicks by count (``'1pt'``, ``'5pt'``)."""
    modes = [
        k[len('pred_masks_'):] for k in sample.keys()
        if k.startswith('pred_masks_')
    ]

    def order(mode):
        if mode == 'box':
            return (0, 0, mode)
        if mode.endswith('pt') and mode[:-2].isdigit():
            return (1, int(mode[:-2]), mode)
        return (2, 0, mode)

    return sorted(modes, key=order)


def mode_title(mode: str) -> str:
    """``'box'`` -> ``'box prompt'``, ``'5pt'`` -> ``'5 clicks'``."""
    if mode == 'box':
        return 'box prompt'
    if mode.endswith('pt') and mode[:-2].isdigit():
        n = int(mode[:-2])
        return f'{n} click' + ('s' if n != 1 else '')
    return mode


def input_to_original(coords, metainfo: dict) -> np.ndarray:
    """Prompt coordinates ``(..., 2k)`` ``(x, y, ...)`` from the model-input
    frame back to original pixels, the way the segmentor restores its masks:
    the image occupies ``valid_region`` ``(x0, y0, x1, y1)`` of the input
    (``PromptResize``: scaled, then padded) and is resized to
    ``ori_shape``. Without both, ``scale_factor`` ``(sx, sy)`` (default 1)
    and the ``valid_region`` offset are used."""
    value = _numpy(coords).astype(np.float64)
    region = metainfo.get('valid_region')
    ori = metainfo.get('ori_shape')
    x0, y0 = tuple(region)[:2] if region is not None else (0, 0)
    if region is not None and ori is not None:
        sx = (region[2] - region[0]) / float(ori[1])
        sy = (region[3] - region[1]) / float(ori[0])
    else:
        sx, sy = metainfo.get('scale_factor', (1.0, 1.0))[:2]
    reps = value.shape[-1] // 2
    return (value - np.array([x0, y0] * reps)) / np.array([sx, sy] * reps)


def _to_drawing(coords: np.ndarray, factor: int) -> np.ndarray:
    """Original pixel coordinates -> centres of the upscaled pixel
    blocks."""
    return (coords + 0.5) * factor - 0.5


def _promptable_gt(sample, ori: Tuple[int, int]) -> Optional[np.ndarray]:
    """``(K, H0, W0)`` ground-truth masks at the original size."""
    if 'ori_gt_masks' in sample:
        return _numpy(sample.ori_gt_masks).astype(bool)
    if 'gt_masks' not in sample:
        return None
    masks = _numpy(sample.gt_masks).astype(bool)
    x0, y0, x1, y1 = sample.metainfo.get(
        'valid_region', (0, 0, masks.shape[-1], masks.shape[-2]))
    masks = masks[:, y0:y1, x0:x1]
    if not len(masks):
        return np.zeros((0, ) + ori, bool)
    return np.stack([resize_nearest(m, *ori) for m in masks])


def object_names(sample, num: int) -> List[str]:
    """Names of a promptable sample's objects: its ``mask_names`` without
    the image stem (``ct_0001_liver_000`` -> ``liver_000``), else
    ``object i``."""
    names = list(sample.metainfo.get('mask_names') or [])
    stem = osp.splitext(osp.basename(sample.metainfo.get('img_path', '')))[0]
    out = []
    for i in range(num):
        name = str(names[i]) if i < len(names) else f'object {i}'
        if stem and name.startswith(stem + '_'):
            name = name[len(stem) + 1:]
        out.append(name)
    return out


def draw_promptable_sample(image: np.ndarray,
                           sample,
                           draw_gt: bool = True,
                           draw_pred: bool = True,
                           min_size: int = 256,
                           alpha: float = 0.45) -> np.ndarray:
    """Ground truth, then per prompt mode every object's mask with the
    prompt that produced it (``prompt_boxes_<mode>`` /
    ``prompt_points_<mode>`` + ``prompt_point_labels_<mode>``, input frame,
    as :class:`~mmpathseg.models.segmentors.PromptableSegmentor` stores
    them; ``gt_boxes`` / ``gt_points`` when a sample lacks them). Each panel
    title gives the mean Dice of its masks when ground truth is there.

    Args:
        image (np.ndarray): ``(H0, W0, 3)`` uint8 RGB, the original image.
        sample: Data sample with ``pred_masks_<mode>`` ``(K, H0, W0)``.
        draw_gt (bool): Add the ground-truth panel. Defaults to True.
        draw_pred (bool): Add the prediction panels. Defaults to True.
        min_size (int): Upscale images whose longer side is shorter.
        alpha (float): Mask opacity.

    Returns:
        np.ndarray: ``(h, w, 3)`` uint8 RGB picture.
    """
    meta = sample.metainfo
    ori = tuple(image.shape[:2])
    base, factor = upscale_for_drawing(image, min_size)
    height, width = base.shape[:2]
    font, thickness = drawing_scale(height, width)
    gt = _promptable_gt(sample, ori)
    modes = prompt_modes(sample)
    num = len(_numpy(sample.get(f'pred_masks_{modes[0]}'))) if modes else (
        len(gt) if gt is not None else 0)
    gt_big = _masks_to(gt, height, width) if gt is not None else None
    panels = []
    if draw_gt and gt_big is not None:
        panels.append(
            add_title(
                draw_masks(base, gt_big, alpha=alpha, thickness=thickness),
                'ground truth', scale=font))
    if draw_pred:
        for mode in modes:
            preds = _masks_to(sample.get(f'pred_masks_{mode}'), height, width)
            boxes = sample.get(f'prompt_boxes_{mode}')
            points = sample.get(f'prompt_points_{mode}')
            labels = sample.get(f'prompt_point_labels_{mode}')
            if boxes is None and points is None:
                # Samples predicted before prompts were stored.
                if mode == 'box':
                    boxes = sample.get('gt_boxes')
                elif mode.endswith('pt') and 'gt_points' in sample:
                    points = _numpy(sample.gt_points)[:, :1]
                    labels = _numpy(sample.gt_point_labels)[:, :1]
            if boxes is not None:
                boxes = _to_drawing(input_to_original(boxes, meta), factor)
            if points is not None:
                points = _to_drawing(input_to_original(points, meta), factor)
                labels = _numpy(labels) if labels is not None else None
            drawn = draw_masks(base, preds, alpha=alpha, thickness=thickness)
            drawn = draw_object_prompts(
                drawn,
                boxes,
                points,
                labels,
                radius=2 + 2 * thickness,
                thickness=thickness)
            title = mode_title(mode)
            dice = _mean_dice(preds, gt_big) if gt_big is not None else None
            if dice is not None:
                title += f'  Dice {dice:.2f}'
            panels.append(add_title(drawn, title, scale=font))
    if not panels:
        panels = [base]
    header = [(_image_title(sample), TEXT_COLOR)]
    if draw_pred and modes:
        header.append(('clicks: green positive, red negative; box and ring '
                       "in the object's colour", MUTED_COLOR))
    legend = [(name, object_color(i))
              for i, name in enumerate(object_names(sample, num))]
    return _compose(header, panels, legend, scale=font)


# ---------------------------------------------------------------------- #
# Referring
# ---------------------------------------------------------------------- #
#: Tokens left out of a drawn answer (padding and sequence ends).
SPECIAL_TOKENS = ('<pad>', '<s>', '</s>', '<unk>', '<|endoftext|>')


def clean_answer(text: Optional[str]) -> str:
    """A generated answer without padding / end tokens, spaces
    collapsed."""
    if not text:
        return ''
    for token in SPECIAL_TOKENS:
        text = text.replace(token, ' ')
    return ' '.join(text.split())


def _decision(rejected: bool) -> str:
    return '[REJ]' if rejected else '[SEG]'


def draw_referring_sample(image: np.ndarray,
                          sample,
                          draw_gt: bool = True,
                          draw_pred: bool = True,
                          min_size: int = 256,
                          alpha: float = 0.45,
                          answer_lines: int = 2) -> np.ndarray:
    """Ground-truth and predicted targets of one referring expression.

    Target ``t`` has one colour in both panels: its ground-truth mask
    (absent when ``gt_empty[t]``) left, its predicted mask (absent when
    ``pred_rejected[t]``) right. Above: the expression, the generated
    answer (``pred_text``, generation mode; shortened to ``answer_lines``)
    and per target ``phrase: gt [SEG]/[REJ], pred [SEG]/[REJ]`` in its
    colour (``(wrong)`` where the decision differs from the ground
    truth).

    Args:
        image (np.ndarray): ``(H0, W0, 3)`` uint8 RGB.
        sample: ``ReferringDataSample`` with ``pred_masks`` ``(T, H0,
            W0)``, ``pred_rejected`` ``(T,)``, ``gt_masks``, ``gt_empty``
            and metainfo ``expression``, ``phrases``.

    Returns:
        np.ndarray: ``(h, w, 3)`` uint8 RGB picture.
    """
    meta = sample.metainfo
    base, _ = upscale_for_drawing(image, min_size)
    height, width = base.shape[:2]
    font, thickness = drawing_scale(height, width)
    pred = _masks_to(sample.pred_masks, height, width)
    num = len(pred)
    rejected = _numpy(sample.pred_rejected).astype(bool) \
        if 'pred_rejected' in sample else np.zeros(num, bool)
    has_gt = 'gt_masks' in sample
    gt = _masks_to(sample.gt_masks, height, width) if has_gt else []
    gt_empty = _numpy(sample.gt_empty).astype(bool) \
        if 'gt_empty' in sample else np.array([not m.any() for m in gt])
    phrases = list(meta.get('phrases') or [])
    panels = []
    if draw_gt and has_gt:
        keep = [t for t in range(len(gt)) if not gt_empty[t]]
        panels.append(
            add_title(
                draw_masks(base, [gt[t] for t in keep],
                           [object_color(t) for t in keep], alpha, thickness),
                'ground truth', scale=font))
    if draw_pred:
        keep = [t for t in range(num) if not rejected[t]]
        panels.append(
            add_title(
                draw_masks(base, [pred[t] for t in keep],
                           [object_color(t) for t in keep], alpha, thickness),
                'prediction', scale=font))
    if not panels:
        panels = [base]
    header = [(f'"{meta.get("expression", "")}"', TEXT_COLOR)]
    answer = clean_answer(sample.get('pred_text'))
    if answer:
        header.append((f'answer: {answer}', MUTED_COLOR))
    legend = []
    for t in range(max(num, len(gt))):
        name = phrases[t] if t < len(phrases) else f'target {t}'
        parts = []
        if has_gt and t < len(gt_empty):
            parts.append(f'gt {_decision(gt_empty[t])}')
        if t < num:
            parts.append(f'pred {_decision(rejected[t])}')
        wrong = has_gt and t < num and t < len(gt_empty) and \
            bool(gt_empty[t]) != bool(rejected[t])
        legend.append(
            (f'{name}: ' + ', '.join(parts) + (' (wrong)' if wrong else ''),
             object_color(t)))
    picture = _compose(header[1:], panels, legend, answer_lines, font)
    name = _image_title(sample)
    if 'ref_id' in meta:
        name += f'  ref {meta["ref_id"]}'
    title = text_banner(picture.shape[1], [(name, MUTED_COLOR), header[0]],
                        font)
    return np.concatenate([title, picture], axis=0)


# ---------------------------------------------------------------------- #
# Text-guided
# ---------------------------------------------------------------------- #
def draw_text_guided_sample(image: np.ndarray,
                            sample,
                            color: Color = LESION_COLOR,
                            draw_gt: bool = True,
                            draw_pred: bool = True,
                            min_size: int = 256,
                            alpha: float = 0.5,
                            report_lines: int = 3) -> np.ndarray:
    """Ground-truth and predicted lesion masks under the report
    (shortened to ``report_lines``; "no report" when the sample has none).
    When the metainfo ``text_guide`` (set by ``TextGuidedSegmentor``) says
    the prediction was guided by something else (virtual prompt, fixed
    text, empty sentence, no text), that is written above and the report
    is greyed out.

    Args:
        image (np.ndarray): ``(H0, W0, 3)`` uint8 RGB.
        sample: ``SegDataSample`` with ``pred_sem_seg`` (and
            ``gt_sem_seg``), metainfo ``text`` / ``has_text``.
        color (tuple): RGB of the lesion.

    Returns:
        np.ndarray: ``(h, w, 3)`` uint8 RGB picture.
    """
    base, _ = upscale_for_drawing(image, min_size)
    height, width = base.shape[:2]
    font, _ = drawing_scale(height, width)
    palette = [(0, 0, 0), tuple(color)]
    panels = []
    gt = None
    if 'gt_sem_seg' in sample:
        gt = resize_nearest(_numpy(sample.gt_sem_seg)[0], height, width)
    if draw_gt and gt is not None:
        panels.append(
            add_title(
                draw_semantic(base, gt, palette, alpha), 'ground truth',
                scale=font))
    if draw_pred:
        pred = resize_nearest(_numpy(sample.pred_sem_seg)[0], height, width)
        title = 'prediction'
        if gt is not None:
            valid = gt != 255
            title += f'  Dice {_dice((pred == 1) & valid, gt == 1):.2f}'
        panels.append(
            add_title(
                draw_semantic(base, pred, palette, alpha), title,
                scale=font))
    if not panels:
        panels = [base]
    meta = sample.metainfo
    text = meta.get('text') if meta.get('has_text', True) else None
    guide = meta.get('text_guide')
    header = [(_image_title(sample), TEXT_COLOR)]
    if guide is not None and guide != 'report':
        # The model was not guided by the report (text_mode / missing
        # text): say by what, and grey the report out.
        header.append((f'guided by: {guide}', TEXT_COLOR))
    used = guide in (None, 'report')
    header.append((f'report: {text}' if text else 'no report',
                   TEXT_COLOR if used else MUTED_COLOR))
    return _compose(header, panels, max_lines_each=report_lines, scale=font)
