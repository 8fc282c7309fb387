# Copyright (c) mmpathseg contributors. All rights reserved.
"""Packing a promptable sample (image, K masks, prompts)."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform, to_tensor
from mmseg.structures import SegDataSample

from mmpathseg.registry import TRANSFORMS

PROMPT_META_KEYS = ('img_path', 'mask_paths', 'mask_names', 'ori_shape',
                    'img_shape', 'scale_factor', 'valid_region',
                    'sample_idx', 'dataset_name')


@TRANSFORMS.register_module()
class PackPromptInputs(BaseTransform):
    """Pack a promptable sample into ``inputs`` and a ``SegDataSample``.

    Data fields of the sample (``K`` objects of the image, input frame =
    after :class:`PromptResize`, before the preprocessor's padding):

    - ``gt_masks``: ``(K, H, W)`` bool, input frame.
    - ``gt_boxes``: ``(K, 4)`` float32 ``x0, y0, x1, y1``, input frame.
    - ``gt_points`` / ``gt_point_labels``: ``(K, P, 2)`` float32 and
      ``(K, P)`` int64, input frame.
    - ``ori_gt_masks``: ``(K, H0, W0)`` bool at the original size (test).

    Args:
        meta_keys (Sequence[str]): Copied into the metainfo when present.
    """

    def __init__(self, meta_keys: Sequence[str] = PROMPT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = to_tensor(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = SegDataSample()
        shape = img.shape[:2]
        if 'gt_masks' in results:
            masks = results['gt_masks']
            if masks.shape[1:] != shape:
                raise ValueError(
                    f'PackPromptInputs: gt_masks of {results.get("img_path")}'
                    f' are {masks.shape[1:]} but the image is {shape}: '
                    'resize masks with the image (PromptResize).')
            sample.gt_masks = torch.from_numpy(masks.astype(bool))
        if 'ori_gt_masks' in results:
            sample.ori_gt_masks = torch.from_numpy(
                results['ori_gt_masks'].astype(bool))
        if 'gt_boxes' in results:
            sample.gt_boxes = torch.from_numpy(
                np.asarray(results['gt_boxes'], np.float32))
        if 'gt_points' in results:
            sample.gt_points = torch.from_numpy(
                np.asarray(results['gt_points'], np.float32))
            sample.gt_point_labels = torch.from_numpy(
                np.asarray(results['gt_point_labels'], np.int64))
        metainfo = {k: results[k] for k in self.meta_keys if k in results}
        metainfo.setdefault('img_shape', shape)
        metainfo.setdefault('valid_region', (0, 0, shape[1], shape[0]))
        sample.set_metainfo(metainfo)
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
