# Copyright (c) mmpathseg contributors. All rights reserved.
"""Task adapter of promptable segmentation
(:class:`~mmpathseg.models.segmentors.PromptableSegmentor`: SAM, FT-SAM,
MedSAM, SAM-Med2D, SyncSAM): user box / point prompts in, one mask per
prompt out."""
import os.path as osp
from typing import Iterable, List, Optional

import numpy as np
import torch.nn as nn
import torch.nn.functional as F

from mmpathseg.exports import (write_binary_mask_png, write_label_png,
                               write_summary)
from mmpathseg.visualization import draw_prompted_mask
from .task_adapters import (ANNOTATION_TRANSFORMS, TaskAdapter,
                            register_task_adapter)

#: Transforms that make prompts or masks from annotations (training and
#: evaluation); at inference the prompts come from the user.
PROMPT_TARGET_TRANSFORMS = ('SampleMasks', 'LoadPromptMasks',
                            'LoadIMedLabels', 'GenerateBoxPrompt',
                            'GeneratePointPrompt')

#: A fixed colour cycle for the masks of several prompts (RGB).
MASK_COLORS = ((30, 144, 255), (255, 140, 0), (148, 0, 211), (0, 206, 209),
               (255, 20, 147), (154, 205, 50), (255, 215, 0), (70, 130, 180))


def _as_array(value, name: str, ndim: int, last: int,
              dtype=np.float32) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(f'PromptableAdapter: `{name}` must be numeric, got '
                        f'{value!r}.') from None
    if array.ndim != ndim or (last and array.shape[-1] != last):
        want = {('boxes', 2): '(N, 4) x1, y1, x2, y2',
                ('points', 3): '(N, K, 2) x, y',
                ('point_labels', 2): '(N, K) 1 / 0'}[(name, ndim)]
        raise ValueError(f'PromptableAdapter: `{name}` must be {want}, got '
                         f'shape {array.shape}.')
    return array


@register_task_adapter('PromptableSegmentor')
class PromptableAdapter(TaskAdapter):
    """One mask per prompt.

    Extra inputs (original image pixels):

    - ``boxes``: ``(N, 4)`` ``x1, y1, x2, y2``;
    - ``points``: ``(N, K, 2)`` ``x, y`` and ``point_labels`` ``(N, K)``
      (1 foreground, 0 background; all 1 when omitted).

    Boxes and points may be given together (the same ``N``: object ``i``
    gets box ``i`` and points ``i``, as SAM combines them). The config's
    test pipeline (``PromptResize``) maps them to the model input; the
    model decodes every prompt once (no corrective rounds, which need
    ground truth).

    Result dict (``task='promptable'``): ``masks`` ``(N, H, W)`` bool at the
    original size, ``scores`` ``(N,)`` predicted IoU (None when the decoder
    has no IoU head), and the prompts ``boxes`` / ``points`` /
    ``point_labels`` in original pixels (None when not given).

    Exports: ``png`` (``{stem}_masks.png``: pixel = index + 1 of the last
    prompt whose mask covers it, 0 elsewhere; plus ``{stem}_mask_{i}.png``
    0/255 per prompt, as masks may overlap), ``summary``
    (``{stem}_summary.json``: per prompt its box / points and foreground
    pixel count).
    """

    task = 'promptable'
    drop_transforms = ANNOTATION_TRANSFORMS + PROMPT_TARGET_TRANSFORMS
    extra_input_keys = ('boxes', 'points', 'point_labels')
    export_formats = ('png', 'summary')

    # -- inputs -------------------------------------------------------- #
    def add_inputs(self, data: dict, extra: Optional[dict]) -> dict:
        extra = dict(extra or {})
        super().add_inputs({}, extra)  # checks the keys
        boxes, points = extra.get('boxes'), extra.get('points')
        labels = extra.get('point_labels')
        if boxes is None and points is None:
            raise ValueError(
                'PromptableAdapter: give `boxes` (N, 4) and/or `points` '
                '(N, K, 2) (+ `point_labels`) per image, e.g. '
                "inferencer(dict(img='a.png', boxes=[[10, 10, 60, 50]])).")
        if labels is not None and points is None:
            raise ValueError('PromptableAdapter: `point_labels` without '
                             '`points`.')
        num = None
        if boxes is not None:
            boxes = _as_array(boxes, 'boxes', 2, 4)
            if (boxes[:, 2:] < boxes[:, :2]).any():
                raise ValueError('PromptableAdapter: boxes must be x1, y1, '
                                 f'x2, y2 with x2 >= x1 and y2 >= y1, got '
                                 f'{boxes.tolist()}.')
            data['gt_boxes'] = boxes
            num = len(boxes)
        if points is not None:
            points = _as_array(points, 'points', 3, 2)
            if labels is None:
                labels = np.ones(points.shape[:2], np.int64)
            labels = _as_array(labels, 'point_labels', 2, 0, np.int64)
            if labels.shape != points.shape[:2]:
                raise ValueError(
                    f'PromptableAdapter: point_labels {labels.shape} do not '
                    f'match points {points.shape} (need (N, K)).')
            if num is not None and len(points) != num:
                raise ValueError(
                    f'PromptableAdapter: {num} boxes but {len(points)} point '
                    'sets; with both, object i gets box i and points i.')
            data['gt_points'] = points
            data['gt_point_labels'] = labels
        return data

    # -- prediction ---------------------------------------------------- #
    def predict_batch(self, model: nn.Module, batch: dict) -> list:
        """Decode each sample's user prompts once and store ``pred_masks``
        ``(N, H0, W0)`` bool (original size) and ``pred_scores`` ``(N,)``
        in its data sample."""
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        size = tuple(inputs.shape[-2:])
        embedding, hq = model.extract_feat(inputs)
        threshold = float(model.test_cfg.get('mask_threshold', 0.0))
        for i, sample in enumerate(samples):
            boxes = sample.gt_boxes if 'gt_boxes' in sample else None
            points = (sample.gt_points, sample.gt_point_labels) \
                if 'gt_points' in sample else None
            num = len(boxes) if boxes is not None else len(points[0])
            emb = embedding[i:i + 1].expand(num, -1, -1, -1)
            hq_i = hq[i:i + 1].expand(num, -1, -1, -1) \
                if hq is not None else None
            logits, iou = model.decode(emb, hq_i, points=points, boxes=boxes)
            up = F.interpolate(
                logits, size=size, mode='bilinear', align_corners=False)
            x0, y0, x1, y1 = sample.metainfo.get('valid_region',
                                                 (0, 0, size[1], size[0]))
            up = up[:, :, y0:y1, x0:x1]
            ori = tuple(sample.metainfo.get('ori_shape', up.shape[-2:]))[:2]
            if tuple(up.shape[-2:]) != ori:
                up = F.interpolate(
                    up, size=ori, mode='bilinear', align_corners=False)
            sample.pred_masks = up[:, 0] > threshold
            if iou is not None:
                sample.pred_scores = iou.reshape(num, -1)[:, 0]
        return samples

    @staticmethod
    def _to_original(sample, key: str) -> Optional[np.ndarray]:
        """Prompts back from the input frame to original pixels."""
        if key not in sample:
            return None
        value = sample.get(key).cpu().numpy().astype(np.float64)
        sx, sy = sample.metainfo.get('scale_factor', (1.0, 1.0))
        x0, y0 = sample.metainfo.get('valid_region', (0, 0))[:2]
        scale = np.array([sx, sy] * (value.shape[-1] // 2))
        offset = np.array([x0, y0] * (value.shape[-1] // 2))
        return (value - offset) / scale

    def to_result(self, data_sample) -> dict:
        masks = data_sample.pred_masks.cpu().numpy().astype(bool)
        scores = data_sample.pred_scores.cpu().numpy() \
            if 'pred_scores' in data_sample else None
        labels = data_sample.gt_point_labels.cpu().numpy() \
            if 'gt_point_labels' in data_sample else None
        return dict(
            task=self.task,
            masks=masks,
            scores=scores,
            boxes=self._to_original(data_sample, 'gt_boxes'),
            points=self._to_original(data_sample, 'gt_points'),
            point_labels=labels)

    # -- drawing and export -------------------------------------------- #
    def draw(self, image: np.ndarray, result: dict, alpha: float = 0.45,
             **kwargs) -> np.ndarray:
        out = image
        points, labels = result.get('points'), result.get('point_labels')
        boxes = result.get('boxes')
        for i, mask in enumerate(result['masks']):
            out = draw_prompted_mask(
                out,
                mask,
                boxes=boxes[i:i + 1] if boxes is not None else None,
                points=points[i] if points is not None else None,
                point_labels=labels[i] if labels is not None else None,
                mask_color=MASK_COLORS[i % len(MASK_COLORS)],
                alpha=alpha)
        return out

    def summary(self, result: dict) -> dict:
        masks = np.asarray(result['masks'])
        prompts = []
        for i, mask in enumerate(masks):
            item = dict(
                index=i, foreground_pixels=int(np.count_nonzero(mask)))
            if result.get('boxes') is not None:
                item['box'] = [round(float(v), 2) for v in result['boxes'][i]]
            if result.get('points') is not None:
                item['points'] = np.round(result['points'][i], 2).tolist()
                item['point_labels'] = [
                    int(v) for v in result['point_labels'][i]
                ]
            if result.get('scores') is not None:
                item['score'] = float(result['scores'][i])
            prompts.append(item)
        return dict(
            task=self.task,
            height=int(masks.shape[1]),
            width=int(masks.shape[2]),
            num_prompts=len(masks),
            prompts=prompts)

    def export(self, result: dict, out_dir: str, stem: str,
               formats: Iterable[str]) -> List[str]:
        formats = self.check_export_formats(formats)
        masks = np.asarray(result['masks']).astype(bool)
        written = []
        if 'png' in formats:
            index = np.zeros(masks.shape[1:], np.int64)
            for i, mask in enumerate(masks):
                index[mask] = i + 1
            written.append(
                write_label_png(index, osp.join(out_dir,
                                                f'{stem}_masks.png')))
            for i, mask in enumerate(masks):
                written.append(
                    write_binary_mask_png(
                        mask, osp.join(out_dir, f'{stem}_mask_{i}.png')))
        if 'summary' in formats:
            written.append(
                write_summary(
                    dict(self.summary(result), image=stem),
                    osp.join(out_dir, f'{stem}_summary.json')))
        return written

