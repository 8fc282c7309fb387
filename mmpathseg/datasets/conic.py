# Copyright (c) mmpathseg contributors. All rights reserved.
"""CoNIC (Lizard patches at 20x) in its challenge release layout, with
source-image level splits and CellVTA's "40x" upscale-and-crop option."""
import copy
import csv
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
from mmseg.datasets import BaseSegDataset

from mmpathseg.registry import DATASETS
from .conic_split import (CONIC_SPLITS, conic_cohort, conic_source,
                          read_split_file, source_level_split)
from .transforms.upscale_crop import UpscaleCrop, crop_offsets, to_pair

CONIC_CLASSES = ('neutrophil', 'epithelial', 'lymphocyte', 'plasma',
                 'eosinophil', 'connective')
CONIC_FILES = dict(
    images='images.npy',
    labels='labels.npy',
    patch_info='patch_info.csv',
    counts='counts.csv')
# CellVTA: 256 -> 480 px, 2 x 2 crops of 256 with stride 224.
CONIC_40X = dict(size=480, crop_size=256, stride=224)
UPSCALE_MODES = ('crops', 'tile')


def read_patch_info(path: str) -> List[str]:
    """Patch names of ``patch_info.csv`` (one column ``patch_info``)."""
    with open(path, newline='') as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows or rows[0][0].strip() != 'patch_info':
        raise ValueError(f'{path}: expected a CSV with the header '
                         '"patch_info" and one patch name per row.')
    names = [r[0].strip() for r in rows[1:]]
    seen = {}
    for row, name in enumerate(names):
        if seen.setdefault(name, row) != row:
            raise ValueError(f'{path}: patch {name!r} is listed at rows '
                             f'{seen[name]} and {row}; names must be unique.')
    return names


def read_counts(path: str, num: int) -> np.ndarray:
    """``counts.csv`` as an ``(N, 6)`` int64 array in CONIC_CLASSES order."""
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        missing = [c for c in CONIC_CLASSES if c not in columns]
        if missing:
            raise ValueError(f'{path}: missing count column(s) {missing}; '
                             f'expected {list(CONIC_CLASSES)}.')
        try:
            counts = np.array([[int(float(row[c])) for c in CONIC_CLASSES]
                               for row in reader],
                              dtype=np.int64)
        except ValueError as err:
            raise ValueError(f'{path}: counts must be integers ({err}).') \
                from err
    if counts.shape[0] != num:
        raise ValueError(f'{path} has {counts.shape[0]} rows but the data '
                         f'set has {num} patches.')
    return counts.reshape(num, len(CONIC_CLASSES))


def check_conic_release(data_root: str) -> dict:
    """Check the release files of ``data_root`` from their headers.

    Returns:
        dict: ``paths`` (file paths, ``counts`` None when absent),
        ``names`` (patch names), ``shape`` ((N, H, W)) and ``counts``
        ((N, 6) or None).
    """
    paths = {k: osp.join(data_root, v) for k, v in CONIC_FILES.items()}
    for key in ('images', 'labels', 'patch_info'):
        if not osp.isfile(paths[key]):
            raise FileNotFoundError(
                f'CoNIC file {paths[key]} is missing. Expected images.npy, '
                'labels.npy, patch_info.csv (and counts.csv) of the CoNIC '
                'challenge release directly under `data_root` (see '
                'data/README.md).')
    arrays = {}
    for key in ('images', 'labels'):
        try:
            arrays[key] = np.load(
                paths[key], mmap_mode='r', allow_pickle=False)
        except ValueError as err:
            raise ValueError(f'{paths[key]}: not a plain numeric array '
                             f'({err}).') from err
    images, labels = arrays['images'], arrays['labels']
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f'{paths["images"]}: expected (N, H, W, 3) RGB, got '
                         f'shape {images.shape}.')
    if labels.ndim != 4 or labels.shape[-1] != 2:
        raise ValueError(
            f'{paths["labels"]}: expected (N, H, W, 2) (channel 0 instance '
            f'ids, channel 1 classes), got shape {labels.shape}.')
    if images.shape[:3] != labels.shape[:3]:
        raise ValueError(
            f'{paths["images"]} has shape {images.shape} but '
            f'{paths["labels"]} has {labels.shape}: the number of patches '
            'and their height/width must match.')
    for key, array in arrays.items():
        if array.dtype.kind not in 'uif':
            raise ValueError(f'{paths[key]}: expected a real numeric array, '
                             f'got dtype {array.dtype}.')
    names = read_patch_info(paths['patch_info'])
    if len(names) != images.shape[0]:
        raise ValueError(
            f'{paths["patch_info"]} names {len(names)} patches but '
            f'{paths["images"]} holds {images.shape[0]}; they must match row '
            'by row.')
    counts = None
    if osp.isfile(paths['counts']):
        counts = read_counts(paths['counts'], len(names))
    else:
        paths['counts'] = None
    return dict(
        paths=paths, names=names, shape=images.shape[:3], counts=counts)


@DATASETS.register_module()
class CoNICDataset(BaseSegDataset):
    """CoNIC nuclei dataset (Lizard patches, 20x), read from the challenge
    release files, memory-mapped.

    Expected files directly under ``data_root``::

        images.npy       (N, 256, 256, 3) uint8 RGB
        labels.npy       (N, 256, 256, 2) channel 0 instance ids (0..n per
                         patch), channel 1 class (0 background, 1..6)
        patch_info.csv   header "patch_info", one "<source>-<patch>" per row
        counts.csv       optional; per-class nucleus counts of the central
                         224 x 224 window (neutrophil, ..., connective)

    Classes: background (0), neutrophil, epithelial, lymphocyte, plasma,
    eosinophil, connective (1..6, CoNIC's ids). The tissue is ``'Colon'``
    (label 0) for every patch, as in CellViT/CellVTA.

    **Splits** are by source image (see :mod:`.conic_split`): ``split_file``
    (CSV ``patch_info,split``, relative to ``data_root``) when given, else
    :func:`~.conic_split.source_level_split` with ``test_ratio``,
    ``val_ratio``, ``split_seed`` and cohort stratification. No source image
    is in two splits.

    **40x** (``upscale``, CellVTA's CoNIC setting): each 256 px tile stands
    for its bilinear upscaling to ``size`` (480) px, covered by crops of
    ``crop_size`` (256) with ``stride`` (224), row-major
    ``[(0, 0), (0, 224), (224, 0), (224, 224)]``. Two modes:

    - ``mode='crops'`` (training): one sample per crop; the pipeline must
      contain :class:`UpscaleCrop` right after the loaders (the dataset
      refuses a pipeline without it). Each sample's data info / metainfo:
      ``tile_index`` (row of the tile in the release arrays, shared by its
      crops), ``crop_index`` (0..3), ``crop_offset`` ``(y, x)`` in the
      upscaled tile, ``crop_size``, ``upsampled_shape`` ``(480, 480)``,
      ``num_crops``; after ``UpscaleCrop``: ``ori_shape`` = the crop,
      ``tile_shape`` = the source tile ``(256, 256)``. Labels are upscaled
      by nearest neighbour. Crop predictions merge back with
      :class:`mmpathseg.postprocessing.InstanceTileMerger` of
      ``upsampled_shape`` (``add(inst, crop_offset, ...)``) and
      ``result(output_shape=tile_shape)``.
    - ``mode='tile'`` (validation/testing): one sample per tile at its
      original resolution (image and ground truth 256 px, ``ori_shape``
      (256, 256)); the metainfo records the geometry: ``tile_index``,
      ``upsampled_shape`` (480, 480), ``crop_size`` (256, 256) and
      ``crop_offsets`` (the 4 origins). The model does the rest, as
      CellVTA's inference: :class:`CellInstanceSegmentor` with
      ``test_cfg=dict(mode='slide', crop_size=(256, 256), stride=(224,
      224), scale_factor=1.875)`` upscales the normalised input bilinearly
      (``align_corners=False``), post-processes each crop (40x preset),
      merges the crops and resizes the result to ``ori_shape``, so metrics
      compare with the original 20x ground truth.

    Each data info carries ``img_path`` / ``seg_map_path`` (``images.npy`` /
    ``labels.npy``), ``img_index`` (row), ``patch_name``, ``source``,
    ``cohort``, ``split``, ``tissue``, ``tissue_label``, ``num_classes`` (6,
    for the label check of :class:`LoadNucleiAnnotations`) and ``counts``
    (the row of ``counts.csv``, if present).

    Args:
        data_root (str): Folder of the release files.
        split (str | Sequence[str] | None): ``'train'``, ``'val'``,
            ``'test'``, a list of them, or None for every patch. Defaults to
            ``'train'``.
        split_file (str, optional): Split CSV. Defaults to None (computed).
        split_seed (int): Seed of the computed split. Defaults to 0.
        test_ratio (float): Fraction of source images for test. Defaults
            to 0.2.
        val_ratio (float): Fraction of the other source images for
            validation. Defaults to 0.2.
        upscale (dict, optional): ``dict(mode='crops'|'tile', size=480,
            crop_size=256, stride=224)``; missing sizes take CellVTA's
            values. Defaults to None (plain 20x tiles).
        **kwargs: Other arguments of :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(
        classes=('background', ) + CONIC_CLASSES,
        palette=[[0, 0, 0], [255, 0, 0], [0, 200, 0], [0, 0, 255],
                 [255, 255, 0], [255, 0, 255], [0, 255, 255]],
        tissue_types=('Colon', ))

    def __init__(self,
                 data_root: Optional[str] = None,
                 split: Union[str, Sequence[str], None] = 'train',
                 split_file: Optional[str] = None,
                 split_seed: int = 0,
                 test_ratio: float = 0.2,
                 val_ratio: float = 0.2,
                 upscale: Optional[dict] = None,
                 **kwargs) -> None:
        if data_root is None:
            raise ValueError('CoNICDataset needs `data_root`, the folder of '
                             'images.npy, labels.npy and patch_info.csv (see '
                             'data/README.md).')
        splits = CONIC_SPLITS if split is None else \
            (split, ) if isinstance(split, str) else tuple(split)
        bad = [s for s in splits if s not in CONIC_SPLITS]
        if not splits or bad:
            raise ValueError(f'CoNICDataset: split={split!r} is not valid; '
                             f'use one of {list(CONIC_SPLITS)}, a list of '
                             'them, or None for all patches.')
        self.splits = splits
        self.split_file = split_file
        self.split_seed = split_seed
        self.test_ratio = test_ratio
        self.val_ratio = val_ratio
        self.upscale = self._parse_upscale(upscale)
        kwargs.setdefault('img_suffix', '.npy')
        kwargs.setdefault('seg_map_suffix', '.npy')
        super().__init__(data_root=data_root, **kwargs)
        self._check_pipeline()

    @staticmethod
    def _parse_upscale(upscale: Optional[dict]) -> Optional[dict]:
        if upscale is None:
            return None
        params = dict(copy.deepcopy(upscale))
        unknown = sorted(set(params) - {'mode', *CONIC_40X})
        mode = params.pop('mode', None)
        if unknown or mode not in UPSCALE_MODES:
            raise ValueError(
                f'CoNICDataset: upscale={dict(upscale)!r} is not valid; use '
                "dict(mode='crops' (one sample per crop, training) or "
                "'tile' (one sample per tile, validation/testing), size=480, "
                'crop_size=256, stride=224).')
        params = {**CONIC_40X, **params}
        size = to_pair(params['size'], 'upscale size')
        crop = to_pair(params['crop_size'], 'upscale crop_size')
        offsets = crop_offsets(size, crop, params['stride'])
        return dict(
            mode=mode,
            upsampled_shape=size,
            crop_size=crop,
            crop_offsets=tuple(offsets))

    def _check_pipeline(self) -> None:
        if self.upscale is None or self.upscale['mode'] != 'crops':
            return
        transforms = getattr(self.pipeline, 'transforms', [])
        if transforms and not any(
                isinstance(t, UpscaleCrop) for t in transforms):
            raise ValueError(
                "CoNICDataset(upscale=dict(mode='crops')) makes one sample "
                'per crop of the upscaled tile: add '
                "dict(type='UpscaleCrop') to the pipeline right after the "
                'loading transforms, or the crops of a tile would all be the '
                'same 20x tile.')

    def _split_of_patches(self, names: List[str]) -> List[str]:
        if self.split_file is not None:
            path = self.split_file
            if self.data_root is not None and not osp.isabs(path):
                path = osp.join(self.data_root, path)
            return read_split_file(path, names)
        return source_level_split(
            names,
            test_ratio=self.test_ratio,
            val_ratio=self.val_ratio,
            seed=self.split_seed)

    def load_data_list(self) -> List[dict]:
        """Index the patches (or crops) of the selected splits.

        Returns:
            list[dict]: One data info per sample (no pixel data).
        """
        release = check_conic_release(self.data_root)
        names, counts = release['names'], release['counts']
        paths = release['paths']
        patch_splits = self._split_of_patches(names)
        tissue = self.metainfo['tissue_types'][0]
        # Labels are checked before `label_map`: against the file's ids.
        num_classes = len(CONIC_CLASSES)
        data_list = []
        for index, (name, split) in enumerate(zip(names, patch_splits)):
            if split not in self.splits:
                continue
            source = conic_source(name)
            info = dict(
                img_path=paths['images'],
                seg_map_path=paths['labels'],
                img_index=index,
                patch_name=name,
                source=source,
                cohort=conic_cohort(source),
                split=split,
                tissue=tissue,
                tissue_label=0,
                num_classes=num_classes,
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            if counts is not None:
                info['counts'] = tuple(int(c) for c in counts[index])
            if self.upscale is None:
                data_list.append(info)
                continue
            info.update(
                tile_index=index,
                upsampled_shape=self.upscale['upsampled_shape'],
                crop_size=self.upscale['crop_size'])
            offsets = self.upscale['crop_offsets']
            if self.upscale['mode'] == 'tile':
                info['crop_offsets'] = offsets
                data_list.append(info)
                continue
            for crop_index, offset in enumerate(offsets):
                crop = dict(
                    info,
                    crop_index=crop_index,
                    crop_offset=offset,
                    num_crops=len(offsets))
                crop['seg_fields'] = []
                data_list.append(crop)
        return data_list
