# Copyright (c) mmpathseg contributors. All rights reserved.
"""Resizing a promptable sample: image, masks and prompts together."""
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS

RESIZE_MODES = ('longest', 'square', 'samed2d')


@TRANSFORMS.register_module()
class PromptResize(BaseTransform):
    """Bring an image to the model's input size, as each reference does.

    Modes:

    - ``'longest'`` (SAM, SyncSAM): scale so the longer side is ``size``
      (aspect kept, SAM's ``ResizeLongestSide``: ``int(side * s + 0.5)``).
      The data preprocessor then pads bottom-right to ``size x size`` after
      normalising, as SAM's ``preprocess`` does; this is the paper's "pad to
      square, then resize" up to the interpolation at the border.
    - ``'square'`` (MedSAM): resize to ``size x size``, aspect lost.
    - ``'samed2d'`` (SAM-Med2D): images with **both** sides below ``size``
      are centre-padded with zeros to ``size x size``; others are resized
      to ``size x size`` (aspect lost).

    Masks are resized with the same geometry (bilinear on 0/1 then
    ``>= 0.5``, as the references' PIL resize of 0/1 images; nearest in
    ``'samed2d'`` mode, as its albumentations pipeline) and stay {0, 1}.
    Boxes and points are scaled (and shifted by the padding). ``ori_gt_masks``
    is left alone.

    Added / modified keys: ``img``, ``gt_masks``, ``gt_boxes``,
    ``gt_points``, ``img_shape`` (the resized, unpadded size),
    ``scale_factor`` ``(w_scale, h_scale)`` and ``valid_region``
    ``(x0, y0, x1, y1)``: where the image lies in the model input, which the
    model crops before restoring predictions to ``ori_shape``.

    Args:
        size (int): Target side. Defaults to 256.
        mode (str): One of ``'longest'``, ``'square'``, ``'samed2d'``.
            Defaults to 'longest'.
        interpolation (str): Image interpolation (mmcv names). Defaults to
            'bilinear' ('nearest' in SAM-Med2D's pipeline, 'bicubic' for
            MedSAM's order-3 resize).
    """

    def __init__(self,
                 size: int = 256,
                 mode: str = 'longest',
                 interpolation: str = 'bilinear') -> None:
        if mode not in RESIZE_MODES:
            raise ValueError(f'PromptResize: mode must be one of '
                             f'{RESIZE_MODES}, got {mode!r}.')
        self.size = size
        self.mode = mode
        self.interpolation = interpolation

    def _target(self, height: int, width: int):
        """``(new_h, new_w, pad_top, pad_left)``."""
        size = self.size
        if self.mode == 'longest':
            scale = size / max(height, width)
            return (int(height * scale + 0.5), int(width * scale + 0.5), 0, 0)
        if self.mode == 'samed2d' and height < size and width < size:
            return height, width, (size - height) // 2, (size - width) // 2
        return size, size, 0, 0

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        new_h, new_w, top, left = self._target(height, width)
        sx, sy = new_w / width, new_h / height
        if (new_h, new_w) != (height, width):
            img = mmcv.imresize(
                img, (new_w, new_h), interpolation=self.interpolation)
        masks = results.get('gt_masks')
        if masks is not None and (new_h, new_w) != (height, width):
            if self.mode == 'samed2d':
                masks = np.stack([
                    mmcv.imresize(m, (new_w, new_h), interpolation='nearest')
                    for m in masks
                ]) if len(masks) else masks.reshape(0, new_h, new_w)
            else:
                masks = np.stack([
                    mmcv.imresize(
                        m.astype(np.float32), (new_w, new_h),
                        interpolation='bilinear') >= 0.5 for m in masks
                ]).astype(np.uint8) if len(masks) else masks.reshape(
                    0, new_h, new_w)
        if top or left:
            padded = np.zeros((self.size, self.size) + img.shape[2:],
                              img.dtype)
            padded[top:top + new_h, left:left + new_w] = img
            img = padded
            if masks is not None:
                out = np.zeros((len(masks), self.size, self.size), np.uint8)
                out[:, top:top + new_h, left:left + new_w] = masks
                masks = out
        results['img'] = img
        if masks is not None:
            results['gt_masks'] = masks
        scale = np.array([sx, sy, sx, sy], np.float32)
        offset = np.array([left, top, left, top], np.float32)
        if 'gt_boxes' in results:
            results['gt_boxes'] = results['gt_boxes'] * scale + offset
        if 'gt_points' in results:
            results['gt_points'] = results['gt_points'] * scale[:2] + \
                offset[:2]
        results['img_shape'] = img.shape[:2]
        results['scale_factor'] = (sx, sy)
        results['valid_region'] = (left, top, left + new_w, top + new_h)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'mode={self.mode!r}, '
                f'interpolation={self.interpolation!r})')
