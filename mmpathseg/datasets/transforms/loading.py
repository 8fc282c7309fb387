# Copyright (c) mmpathseg contributors. All rights reserved.
"""Loading of samples stored as rows of stacked ``.npy`` arrays (PanNuke,
CoNIC), memory-mapped so only the requested row is read."""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS
from ..pannuke import NUCLEI_TYPES


class _NpyCache:
    """Memory-mapped ``.npy`` files of one process, opened once each.

    ``allow_pickle=False``: object arrays are refused, nothing is unpickled.
    Each dataloader worker builds its own maps (the cache lives in the
    transform, which workers copy).
    """

    def __init__(self) -> None:
        self._arrays: Dict[str, np.ndarray] = {}

    def __call__(self, path: str) -> np.ndarray:
        array = self._arrays.get(path)
        if array is None:
            array = np.load(path, mmap_mode='r', allow_pickle=False)
            self._arrays[path] = array
        return array

    def __getstate__(self) -> dict:  # maps are not carried across pickling
        return {'_arrays': {}}


def _read_row(cache: _NpyCache, path: str, index: int) -> np.ndarray:
    array = cache(path)
    if not 0 <= index < array.shape[0]:
        raise IndexError(f'{path}: index {index} is out of range for an '
                         f'array of {array.shape[0]} rows.')
    return np.asarray(array[index])


@TRANSFORMS.register_module()
class LoadImageFromNpy(BaseTransform):
    """Load one image from a stacked ``(N, H, W, 3)`` RGB ``.npy`` array.

    The release arrays store 0..255 values as float64 (PanNuke) or uint8
    (CoNIC). The image is checked (finite, within 0..255) and returned as
    uint8, in ``channel_order``. The default ``'bgr'`` matches mmseg's
    ``LoadImageFromFile``, so mmseg transforms (e.g. ``PhotoMetricDistortion``)
    and ``SegDataPreProcessor(bgr_to_rgb=True)`` with RGB mean/std behave as
    for images read from files.

    Required Keys:

    - img_path (str): the ``.npy`` file.
    - img_index (int): the row to read.

    Added Keys:

    - img (np.ndarray): (H, W, 3) uint8, or float32 if ``to_float32``.
    - img_shape (tuple): (H, W).
    - ori_shape (tuple): (H, W).

    Args:
        to_float32 (bool): Return a float32 image. Defaults to False.
        channel_order (str): ``'bgr'`` or ``'rgb'``. Defaults to ``'bgr'``.
    """

    def __init__(self,
                 to_float32: bool = False,
                 channel_order: str = 'bgr') -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f'LoadImageFromNpy: channel_order must be "bgr" '
                             f'or "rgb", got {channel_order!r}.')
        self.to_float32 = to_float32
        self.channel_order = channel_order
        self._cache = _NpyCache()

    def transform(self, results: dict) -> dict:
        path, index = results['img_path'], int(results['img_index'])
        img = _read_row(self._cache, path, index)
        if img.ndim != 3 or img.shape[-1] != 3:
            raise ValueError(f'{path}[{index}]: expected an (H, W, 3) RGB '
                             f'image, got shape {img.shape}.')
        if img.dtype != np.uint8:
            if not np.isfinite(img).all() or img.min() < 0 or img.max() > 255:
                raise ValueError(
                    f'{path}[{index}]: image values must be finite and within '
                    f'0..255, got range [{np.nanmin(img)}, {np.nanmax(img)}].')
            img = np.rint(img).astype(np.uint8)
        if self.channel_order == 'bgr':
            img = img[..., ::-1]
        img = np.ascontiguousarray(img)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"channel_order='{self.channel_order}')")


@TRANSFORMS.register_module()
class LoadPanNukeAnnotations(BaseTransform):
    """Load the semantic and instance maps of one tile from a PanNuke
    ``masks.npy`` ``(N, H, W, 6)``: channels 0..4 hold the instance ids of
    the five nucleus types, channel 5 (background) is ignored.

    With ``strict=True`` (default) the tile is refused with an error naming
    the file, the index and the offending value when an instance id is not a
    non-negative integer, when one id appears in two type channels, or when
    a pixel is labelled in two type channels. ``strict=False`` follows
    CellViT's conversion instead: ids are renumbered per channel (ids of
    later channels come after earlier ones) and a pixel labelled in several
    channels takes the last.

    Required Keys:

    - seg_map_path (str): the ``masks.npy`` file.
    - img_index (int): the row to read.
    - seg_fields (list)
    - reduce_zero_label (bool, optional), label_map (dict, optional): as in
      mmseg's ``LoadAnnotations``.

    Added Keys:

    - gt_seg_map (np.ndarray): (H, W) uint8, 0 background, 1..5 nucleus type
      (after ``label_map`` / ``reduce_zero_label``).
    - gt_inst_map (np.ndarray): (H, W) int32 instance ids, 0 background,
      unique across types (the file's ids with ``strict``; 1..n otherwise),
      not necessarily contiguous. Only with ``with_inst``.

    Both are appended to ``seg_fields``, so mmseg's geometric transforms keep
    them aligned with the image. Target transforms (NP/HV/NC maps) read
    ``gt_inst_map`` and ``gt_seg_map``.

    Args:
        with_seg (bool): Add ``gt_seg_map``. Defaults to True.
        with_inst (bool): Add ``gt_inst_map``. Defaults to True.
        strict (bool): Refuse inconsistent tiles. Defaults to True.
    """
    num_types = len(NUCLEI_TYPES)

    def __init__(self,
                 with_seg: bool = True,
                 with_inst: bool = True,
                 strict: bool = True) -> None:
        self.with_seg = with_seg
        self.with_inst = with_inst
        self.strict = strict
        self._cache = _NpyCache()

    def transform(self, results: dict) -> dict:
        path, index = results['seg_map_path'], int(results['img_index'])
        masks = _read_row(self._cache, path, index)
        if masks.ndim != 3 or masks.shape[-1] < self.num_types:
            raise ValueError(
                f'{path}[{index}]: expected (H, W, 6) with instance ids in '
                f'channels 0..4, got shape {masks.shape}.')
        inst = masks[..., :self.num_types]
        # `ori_shape`: the image as loaded, before any resize (mmseg test
        # pipelines load annotations after `Resize`).
        if 'ori_shape' in results and tuple(
                inst.shape[:2]) != tuple(results['ori_shape'][:2]):
            raise ValueError(
                f'{path}[{index}]: mask size {inst.shape[:2]} differs from '
                f'the image size {tuple(results["ori_shape"][:2])} of '
                f'{results.get("img_path")}[{index}].')
        inst_map, type_map = (
            self._combine_strict(inst, path, index)
            if self.strict else self._combine_relabel(inst))

        if self.with_seg:
            seg = type_map
            if results.get('reduce_zero_label', False):
                seg = seg.copy()
                seg[seg == 0] = 255
                seg = seg - 1
                seg[seg == 254] = 255
            if results.get('label_map', None):
                orig = seg.copy()
                for old_id, new_id in results['label_map'].items():
                    seg[orig == old_id] = new_id
            results['gt_seg_map'] = seg
            results['seg_fields'].append('gt_seg_map')
        if self.with_inst:
            results['gt_inst_map'] = inst_map
            results['seg_fields'].append('gt_inst_map')
        return results

    def _combine_strict(self, inst: np.ndarray, path: str, index: int):
        """Merge the type channels, refusing inconsistent tiles.

        Args:
            inst (np.ndarray): (H, W, 5) instance ids per type.

        Returns:
            tuple: (H, W) int32 instance map, (H, W) uint8 type map.
        """
        where = f'{path}[{index}]'
        if not np.isfinite(inst).all():
            raise ValueError(f'{where}: instance ids must be finite.')
        ids = inst.astype(np.int64)
        bad = (ids != inst) | (ids < 0)
        if bad.any():
            y, x, c = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f'{where}: instance ids must be non-negative integers, got '
                f'{inst[y, x, c]} at pixel (y={y}, x={x}) of channel {c} '
                f'({self._type_name(c)}).')
        labelled = ids > 0
        owners = labelled.sum(-1)
        if (owners > 1).any():
            y, x = (int(v) for v in np.argwhere(owners > 1)[0])
            chans = np.flatnonzero(labelled[y, x])
            raise ValueError(
                f'{where}: pixel (y={y}, x={x}) is labelled in several '
                f'nucleus types: ' + ', '.join(
                    f'{self._type_name(c)} (id {ids[y, x, c]})'
                    for c in chans) + '. Each pixel must belong to one '
                'instance; fix the file or load it with '
                '`LoadPanNukeAnnotations(strict=False)` (CellViT: the last '
                'type wins).')
        seen: Dict[int, int] = {}
        for c in range(self.num_types):
            for inst_id in np.unique(ids[..., c]):
                if inst_id == 0:
                    continue
                first = seen.setdefault(int(inst_id), c)
                if first != c:
                    raise ValueError(
                        f'{where}: instance id {int(inst_id)} appears in '
                        f'channels {first} ({self._type_name(first)}) and '
                        f'{c} ({self._type_name(c)}); ids must be unique '
                        'across the five type channels of a tile. Fix the '
                        'file or load it with '
                        '`LoadPanNukeAnnotations(strict=False)`, which '
                        'renumbers each channel as CellViT does.')
        inst_map = ids.sum(-1).astype(np.int32)
        type_map = np.zeros(inst_map.shape, np.uint8)
        for c in range(self.num_types):
            type_map[labelled[..., c]] = c + 1
        return inst_map, type_map

    def _combine_relabel(self, inst: np.ndarray):
        """CellViT's merge: renumber each channel to consecutive ids after
        the previous channels'; later channels overwrite earlier ones."""
        inst_map = np.zeros(inst.shape[:2], np.int32)
        type_map = np.zeros(inst.shape[:2], np.uint8)
        offset = 0
        for c in range(self.num_types):
            channel = inst[..., c]
            values, relabelled = np.unique(channel, return_inverse=True)
            relabelled = relabelled.reshape(channel.shape)
            if values[0] != 0:  # no background in this channel
                relabelled = relabelled + 1
            fg = channel > 0
            inst_map[fg] = relabelled[fg] + offset
            type_map[fg] = c + 1
            offset += int(fg.any() and relabelled[fg].max())
        return inst_map, type_map

    @staticmethod
    def _type_name(c: int) -> str:
        return NUCLEI_TYPES[c]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_seg={self.with_seg}, '
                f'with_inst={self.with_inst}, strict={self.strict})')
