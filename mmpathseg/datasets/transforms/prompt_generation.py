# Copyright (c) mmpathseg contributors. All rights reserved.
"""Box and point prompts from the ground-truth masks of a sample.

Run them before or after the resize, as the protocol wants: SyncSAM takes the
box (and its jitter) at the **original** resolution and the resize scales it;
SAM-Med2D takes it from the already-resized 256 mask. :class:`PromptResize`
scales every prompt present.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS
from .prompt_geometry import (expand_box, make_rng, mask_box, sample_points,
                              translate_box)

JITTER_MODES = ('none', 'translate', 'expand')


@TRANSFORMS.register_module()
class GenerateBoxPrompt(BaseTransform):
    """One box per mask: ``gt_boxes`` ``(K, 4)`` float32 ``x0, y0, x1, y1``.

    Jitter modes:

    - ``'translate'`` (SAM-Med2D, SyncSAM training): the box of the largest
      component shifted by one ``(dx, dy)`` in ``[-m, m)``, ``m = min(
      max_shift, int(0.5 * min(w, h)))``.
    - ``'expand'`` (MedSAM training): every side moved outwards by
      ``[0, max_shift]`` px, clipped to the image.
    - ``'none'``: the tight box (every test protocol).

    Args:
        jitter (str): One of ``'none'``, ``'translate'``, ``'expand'``.
            Defaults to 'none'.
        max_shift (int): Jitter bound in pixels of the current frame.
            Defaults to 5.
        largest_component (bool): Box of the largest 8-connected component
            (SAM-Med2D, SyncSAM) or of all foreground (MedSAM). Defaults to
            True.
        seed (int, optional): Fixed prompts per image (test); None draws
            from the seeded global state. Defaults to None.
    """

    def __init__(self,
                 jitter: str = 'none',
                 max_shift: int = 5,
                 largest_component: bool = True,
                 seed: Optional[int] = None) -> None:
        if jitter not in JITTER_MODES:
            raise ValueError(f'GenerateBoxPrompt: jitter must be one of '
                             f'{JITTER_MODES}, got {jitter!r}.')
        self.jitter = jitter
        self.max_shift = max_shift
        self.largest_component = largest_component
        self.seed = seed

    def transform(self, results: dict) -> dict:
        masks = results['gt_masks']
        rng = make_rng(self.seed, 'box:' + str(results.get('img_path', '')))
        boxes = []
        for mask in masks:
            box = mask_box(mask, self.largest_component)
            if self.jitter == 'translate':
                box = translate_box(box, self.max_shift, rng)
            elif self.jitter == 'expand':
                box = expand_box(box, self.max_shift, mask.shape, rng)
            boxes.append(box)
        results['gt_boxes'] = np.stack(boxes).astype(np.float32) if boxes \
            else np.zeros((0, 4), np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(jitter={self.jitter!r}, '
                f'max_shift={self.max_shift}, '
                f'largest_component={self.largest_component}, '
                f'seed={self.seed})')


@TRANSFORMS.register_module()
class GeneratePointPrompt(BaseTransform):
    """Points drawn uniformly from every mask (the first click).

    Adds ``gt_points`` ``(K, P, 2)`` float32 ``(x, y)`` and
    ``gt_point_labels`` ``(K, P)`` int64. With ``num_points=1`` (SyncSAM,
    SAM-Med2D) it is one foreground pixel; further clicks of an interactive
    sequence come from the model's errors (see
    ``mmpathseg.models.segmentors.interactive_simulation``).

    Args:
        num_points (int): Points per mask. Defaults to 1.
        num_negative (int): How many of them come from the background.
            Defaults to 0.
        seed (int, optional): Fixed prompts per image (test). Defaults to
            None.
    """

    def __init__(self,
                 num_points: int = 1,
                 num_negative: int = 0,
                 seed: Optional[int] = None) -> None:
        if not 0 <= num_negative <= num_points or num_points < 1:
            raise ValueError(
                'GeneratePointPrompt: need num_points >= 1 and 0 <= '
                f'num_negative <= num_points, got {num_points}, '
                f'{num_negative}.')
        self.num_points = num_points
        self.num_negative = num_negative
        self.seed = seed

    def transform(self, results: dict) -> dict:
        masks = results['gt_masks']
        rng = make_rng(self.seed, 'pt:' + str(results.get('img_path', '')))
        coords, labels = [], []
        for mask in masks:
            c, l = sample_points(mask, self.num_points, rng, self.num_negative)
            coords.append(c)
            labels.append(l)
        k, p = len(masks), self.num_points
        results['gt_points'] = np.stack(coords) if coords else np.zeros(
            (0, p, 2), np.float32)
        results['gt_point_labels'] = np.stack(labels) if labels else \
            np.zeros((0, p), np.int64)
        assert results['gt_points'].shape == (k, p, 2)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_points={self.num_points}, '
                f'num_negative={self.num_negative}, seed={self.seed})')
