# Copyright (c) mmpathseg contributors. All rights reserved.
"""Choosing and loading the object masks of a promptable sample."""
from typing import List

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SampleMasks(BaseTransform):
    """Keep ``num_masks`` of an image's masks, drawn at random.

    SyncSAM and SAM-Med2D train on 5 masks per image drawn **with
    replacement** (``random.choices``), so an image with fewer masks repeats
    some; ``replace=False`` draws without replacement and keeps all masks of
    images that have fewer. Put it before :class:`LoadPromptMasks` so that
    only the kept masks are read.

    Required keys: ``mask_paths`` (list), optional ``mask_names``.
    Modified keys: the same lists, reordered and subsampled.

    Args:
        num_masks (int): Masks per image. Defaults to 5.
        replace (bool): Draw with replacement. Defaults to True.
    """

    def __init__(self, num_masks: int = 5, replace: bool = True) -> None:
        if num_masks < 1:
            raise ValueError(f'SampleMasks: num_masks must be >= 1, got '
                             f'{num_masks}.')
        self.num_masks = num_masks
        self.replace = replace

    def transform(self, results: dict) -> dict:
        loaded = 'gt_masks' in results
        count = len(results['gt_masks'] if loaded else results['mask_paths'])
        if count == 0:
            raise ValueError(
                f'SampleMasks: {results.get("img_path")} has no masks.')
        if self.replace:
            picks = np.random.randint(0, count, size=self.num_masks)
        else:
            picks = np.random.permutation(count)[:self.num_masks]
        for key in ('mask_paths', 'mask_names'):
            if key in results:
                results[key] = [results[key][i] for i in picks]
        if loaded:
            results['gt_masks'] = results['gt_masks'][picks]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_masks={self.num_masks}, '
                f'replace={self.replace})')


@TRANSFORMS.register_module()
class LoadPromptMasks(BaseTransform):
    """Read one binary mask per object into ``gt_masks``.

    A pixel is foreground when its grey value is ``>= threshold``; with the
    default 255, SyncSAM's and SAM-Med2D's reading of 0/255 files is
    reproduced exactly, including their treatment of lossy (``.jpg``) masks,
    whose values below 255 are read as background. Use a lower threshold
    (e.g. 128) for your own anti-aliased masks.

    Required keys: ``mask_paths``, ``img`` (to check the size).
    Added keys: ``gt_masks`` ``(K, H, W)`` uint8 {0, 1};
    ``ori_gt_masks`` (same array, never resized) when ``keep_ori``.

    Args:
        threshold (int): Foreground threshold on the stored value. Defaults
            to 255.
        keep_ori (bool): Keep an original-resolution copy for the metric
            (test pipelines). Defaults to False.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 threshold: int = 255,
                 keep_ori: bool = False,
                 backend_args=None) -> None:
        self.threshold = threshold
        self.keep_ori = keep_ori
        self.backend_args = backend_args

    def _read(self, path: str, shape) -> np.ndarray:
        from mmengine import fileio
        try:
            raw = mmcv.imfrombytes(
                fileio.get(path, backend_args=self.backend_args),
                flag='unchanged')
        except FileNotFoundError:
            raise FileNotFoundError(
                f'LoadPromptMasks: mask file {path} does not exist (listed '
                'in the dataset index).') from None
        if raw is None:
            raise ValueError(f'LoadPromptMasks: {path} is not an image.')
        if raw.ndim == 3:
            raw = raw[..., 0]
        if raw.shape != tuple(shape):
            raise ValueError(
                f'LoadPromptMasks: mask {path} is {raw.shape[1]}x'
                f'{raw.shape[0]} (WxH) but its image is {shape[1]}x'
                f'{shape[0]}; masks must have their image\'s size.')
        return (raw >= self.threshold).astype(np.uint8)

    def transform(self, results: dict) -> dict:
        shape = results['img'].shape[:2]
        masks: List[np.ndarray] = [
            self._read(p, shape) for p in results['mask_paths']
        ]
        results['gt_masks'] = np.stack(masks) if masks else np.zeros(
            (0, ) + tuple(shape), np.uint8)
        if self.keep_ori:
            results['ori_gt_masks'] = results['gt_masks'].copy()
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(threshold={self.threshold}, '
                f'keep_ori={self.keep_ori})')


@TRANSFORMS.register_module()
class LoadIMedLabels(BaseTransform):
    """Read an IMed-361M label (sparse CSR ``.npz``) into ``gt_masks``.

    One binary mask per **non-empty** class row; ``mask_names`` gets
    ``'class<row>'``. An image whose label is all empty raises (IMIS-Bench
    lists only labelled slices).

    Required keys: ``label_path``, ``img``.
    Added keys: ``gt_masks`` ``(K, H, W)`` uint8, ``mask_names``,
    ``ori_gt_masks`` when ``keep_ori``.

    Args:
        keep_ori (bool): Keep an original-resolution copy. Defaults to
            False.
    """

    def __init__(self, keep_ori: bool = False) -> None:
        self.keep_ori = keep_ori

    def transform(self, results: dict) -> dict:
        from ..imed361m import load_label_masks
        path = results['label_path']
        masks = load_label_masks(path)
        shape = results['img'].shape[:2]
        if masks.shape[1:] != tuple(shape):
            raise ValueError(
                f'LoadIMedLabels: label {path} is {masks.shape[1:]} but its '
                f'image {results.get("img_path")} is {tuple(shape)}.')
        rows = np.flatnonzero(masks.reshape(len(masks), -1).any(1))
        if rows.size == 0:
            raise ValueError(f'LoadIMedLabels: {path} has no foreground.')
        results['gt_masks'] = masks[rows]
        results['mask_names'] = [f'class{r}' for r in rows]
        if self.keep_ori:
            results['ori_gt_masks'] = results['gt_masks'].copy()
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(keep_ori={self.keep_ori})'
