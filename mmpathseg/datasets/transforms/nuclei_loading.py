# Copyright (c) mmpathseg contributors. All rights reserved.
"""Loading of nucleus instance + type maps stored per image (``.npz``, the
pickle-free version of CellViT's per-image layout) or as rows of a stacked
``(N, H, W, 2)`` array (CoNIC ``labels.npy``)."""
import os.path as osp
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS
from ..nuclei_validation import check_nuclei_maps
from .loading import _NpyCache

CONVERTER = 'tools/dataset_converters/cellvit_labels_to_npz.py'


def refuse_pickled_labels(path: str) -> None:
    """Raise for a per-image ``.npy`` label (CellViT's pickled dict)."""
    raise ValueError(
        f'{path}: per-image .npy labels are CellViT\'s pickled dicts, which '
        'mmpathseg does not unpickle (unpickling runs code from the file). '
        f'Convert a folder you trust once with `python {CONVERTER} '
        '<labels folder> --trusted`, which writes pickle-free .npz files '
        '(arrays `inst_map`, `type_map`) next to them.')


@TRANSFORMS.register_module()
class LoadNucleiAnnotations(BaseTransform):
    """Load the instance map and the type map of one nuclei sample.

    Two sources, chosen by the data info:

    - ``seg_map_path`` ending in ``.npz`` (per-image layout, see
      :class:`~mmpathseg.datasets.NucleiFolderDataset`): arrays ``inst_map``
      and ``type_map``, read with ``allow_pickle=False``;
    - ``seg_map_path`` a stacked ``.npy`` and ``img_index`` given (CoNIC
      ``labels.npy``, ``(N, H, W, 2)``): channel 0 the instance map,
      channel 1 the type map of row ``img_index``, memory-mapped.

    A ``.npy`` label without ``img_index`` (CellViT's pickled per-image dict)
    is refused with the command that converts it.

    With ``validate=True`` (default) the sample is checked by
    :func:`~mmpathseg.datasets.nuclei_validation.check_nuclei_maps` (same
    size as the image, type ids within ``0..num_classes``, one type per
    instance, types exactly on instances) and refused with an error naming
    the file, the index and the pixel. The checks are vectorised (about a
    millisecond per 256 px tile); ``validate=False`` skips them.

    Required Keys:

    - seg_map_path (str)
    - img_index (int, optional): the row of a stacked array.
    - num_classes (int, optional): C, set by the nuclei datasets; the
      ``num_classes`` argument wins.
    - img_shape (tuple, optional): checked against the label size.
    - seg_fields (list)
    - reduce_zero_label (bool, optional), label_map (dict, optional): as in
      mmseg's ``LoadAnnotations``, applied to the type map.

    Added Keys:

    - gt_seg_map (np.ndarray): (H, W) uint8 type map, 0 background.
    - gt_inst_map (np.ndarray): (H, W) int32 instance ids, 0 background.

    Both are appended to ``seg_fields`` so geometric transforms move them
    with the image.

    Args:
        with_seg (bool): Add ``gt_seg_map``. Defaults to True.
        with_inst (bool): Add ``gt_inst_map``. Defaults to True.
        validate (bool): Check each sample. Defaults to True.
        num_classes (int, optional): Number of nucleus classes (background
            excluded) for the range check. Defaults to None: the sample's
            ``num_classes``, else types only need to fit in 0..255.
    """

    def __init__(self,
                 with_seg: bool = True,
                 with_inst: bool = True,
                 validate: bool = True,
                 num_classes: Optional[int] = None) -> None:
        if num_classes is not None and num_classes < 1:
            raise ValueError('LoadNucleiAnnotations: num_classes must be >= '
                             f'1 or None, got {num_classes!r}.')
        self.with_seg = with_seg
        self.with_inst = with_inst
        self.validate = validate
        self.num_classes = num_classes
        self._cache = _NpyCache()

    def _read(self, results: dict) -> Tuple[np.ndarray, np.ndarray, str]:
        path = results['seg_map_path']
        suffix = osp.splitext(path)[1].lower()
        if results.get('img_index') is not None:
            index = int(results['img_index'])
            where = f'{path}[{index}]'
            labels = self._cache(path)
            if labels.ndim != 4 or labels.shape[-1] != 2:
                raise ValueError(
                    f'{path}: expected stacked labels of shape (N, H, W, 2) '
                    '(channel 0 instance ids, channel 1 types), got '
                    f'{labels.shape}.')
            if not 0 <= index < labels.shape[0]:
                raise IndexError(f'{path}: index {index} is out of range for '
                                 f'{labels.shape[0]} rows.')
            row = np.asarray(labels[index])
            return row[..., 0], row[..., 1], where
        if suffix == '.npy':
            refuse_pickled_labels(path)
        if suffix != '.npz':
            raise ValueError(
                f'{path}: LoadNucleiAnnotations reads per-image .npz labels '
                '(arrays `inst_map`, `type_map`) or rows of a stacked .npy '
                f'(with `img_index`), not {suffix or "files without suffix"}.')
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [
                    k for k in ('inst_map', 'type_map') if k not in npz.files
                ]
                if missing:
                    raise ValueError(
                        f'{path}: missing array(s) {missing}; a label file '
                        'needs `inst_map` and `type_map` (has '
                        f'{sorted(npz.files)}).')
                return npz['inst_map'], npz['type_map'], path
        except ValueError as err:
            if 'allow_pickle' in str(err):
                raise ValueError(
                    f'{path}: holds Python objects, which are not unpickled. '
                    'Save plain arrays: `np.savez_compressed(path, '
                    'inst_map=..., type_map=...)`.') from err
            raise

    def transform(self, results: dict) -> dict:
        inst_map, type_map, where = self._read(results)
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = results.get('num_classes')
        if self.validate:
            inst_map, type_map = check_nuclei_maps(
                inst_map,
                type_map,
                where,
                num_classes=num_classes,
                image_shape=results.get('img_shape'),
                image_where=results.get('img_path'))
        else:
            inst_map = np.asarray(inst_map).astype(np.int32, copy=False)
            type_map = np.asarray(type_map).astype(np.uint8, copy=False)
        # Channels of a stacked row are strided views; cv2 wants contiguous.
        inst_map = np.ascontiguousarray(inst_map)
        type_map = np.ascontiguousarray(type_map)

        if self.with_seg:
            seg = type_map
            if results.get('reduce_zero_label', False):
                seg = seg.copy()
                seg[seg == 0] = 255
                seg = seg - 1
                seg[seg == 254] = 255
            if results.get('label_map', None):
                orig = seg.copy()
                seg = seg.copy()
                for old_id, new_id in results['label_map'].items():
                    seg[orig == old_id] = new_id
            results['gt_seg_map'] = seg
            results['seg_fields'].append('gt_seg_map')
        if self.with_inst:
            results['gt_inst_map'] = inst_map
            results['seg_fields'].append('gt_inst_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_seg={self.with_seg}, '
                f'with_inst={self.with_inst}, validate={self.validate}, '
                f'num_classes={self.num_classes})')
