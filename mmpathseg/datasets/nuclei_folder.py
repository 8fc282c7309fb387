# Copyright (c) mmpathseg contributors. All rights reserved.
"""Nuclei datasets in CellViT's per-image layout (one image file and one
label file per tile), pickle-free."""
import csv
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import yaml
from mmseg.datasets import BaseSegDataset

from mmpathseg.registry import DATASETS
from .transforms.nuclei_loading import refuse_pickled_labels

UNKNOWN_TISSUE = 'unknown'


def natural_key(name: str) -> list:
    """Sort key that orders ``img_2`` before ``img_10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', name)]


def _load_yaml(path: str) -> dict:
    with open(path) as f:
        try:
            content = yaml.safe_load(f)
        except yaml.YAMLError as err:
            raise ValueError(f'{path}: not valid YAML ({err}).') from err
    if not isinstance(content, dict):
        raise ValueError(f'{path}: expected a mapping at the top level, got '
                         f'{type(content).__name__}.')
    return content


def _names_by_id(mapping: dict,
                 path: str,
                 key: str,
                 background: bool = True) -> Tuple[str, ...]:
    """Names ordered by id from ``{id: name}`` or ``{name: id}``. Ids must
    run from 0 without gaps; with ``background`` a missing id 0 is added as
    ``'background'`` (label maps that list only the nucleus classes)."""
    if not isinstance(mapping, dict):
        raise ValueError(f'{path}: {key} must be a mapping of ids and names, '
                         f'got {type(mapping).__name__}.')
    by_id: Dict[int, str] = {}
    for k, v in mapping.items():
        ident, name = (k, v) if not isinstance(k, str) or k.isdigit() \
            else (v, k)
        try:
            ident = int(ident)
        except (TypeError, ValueError):
            raise ValueError(
                f'{path}: {key} must map integer ids to names (or names to '
                f'ids), got {k!r}: {v!r}.') from None
        if ident in by_id:
            raise ValueError(f'{path}: {key} gives id {ident} twice '
                             f'({by_id[ident]!r}, {name!r}).')
        by_id[ident] = str(name)
    if background and 0 not in by_id:
        by_id[0] = 'background'
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError(f'{path}: {key} ids must run from 0 without gaps, '
                         f'got {sorted(by_id)}.')
    return tuple(by_id[i] for i in range(len(by_id)))


def read_class_files(data_root: str) -> dict:
    """Class (and tissue) names from ``label_map.yaml`` (CellViT++:
    ``{id: name}``) or ``dataset_config.yaml`` (CellViT: ``nuclei_types``
    and ``tissue_types``, ``{name: id}``) in ``data_root``; the first found
    wins for classes. Read with ``yaml.safe_load``.

    Returns:
        dict: ``classes`` and/or ``tissue_types`` that were found.
    """
    found = {}
    label_map = osp.join(data_root, 'label_map.yaml')
    config = osp.join(data_root, 'dataset_config.yaml')
    if osp.isfile(label_map):
        content = _load_yaml(label_map)
        if 'labels' in content and isinstance(content['labels'], dict):
            content = content['labels']
        found['classes'] = _names_by_id(content, label_map, 'the label map')
    if osp.isfile(config):
        content = _load_yaml(config)
        if 'classes' not in found and 'nuclei_types' in content:
            found['classes'] = _names_by_id(content['nuclei_types'], config,
                                            'nuclei_types')
        if 'tissue_types' in content:
            found['tissue_types'] = _names_by_id(
                content['tissue_types'],
                config,
                'tissue_types',
                background=False)
    return found


def read_types_csv(path: str) -> Dict[str, str]:
    """``types.csv`` (columns ``img``, ``type``) as {image file: tissue}."""
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if 'img' not in columns or 'type' not in columns:
            raise ValueError(f'{path}: needs the columns "img" and "type", '
                             f'found {columns}.')
        tissues = {}
        for line, row in enumerate(reader, start=2):
            name = row['img'].strip()
            if name in tissues:
                raise ValueError(f'{path}, line {line}: image {name!r} is '
                                 'listed twice.')
            tissues[name] = row['type'].strip()
    return tissues


@DATASETS.register_module()
class NucleiFolderDataset(BaseSegDataset):
    """Nuclei tiles stored one file per image, as CellViT's per-image
    layout but with pickle-free labels::

        data_root/
          label_map.yaml or dataset_config.yaml   optional class names
          <fold>/images/<name>.png                RGB tiles
          <fold>/labels/<name>.npz                inst_map (H, W) int,
                                                  type_map (H, W) int
          <fold>/types.csv                        optional: img,type

    With ``folds=None`` the ``images``/``labels`` folders sit directly under
    ``data_root`` (as in ``shared/fixtures/nucls``). Images are listed from
    ``images/`` in natural order (``x_2`` before ``x_10``); each needs its
    ``labels/<name>.npz`` (arrays ``inst_map``: 0 background, one id per
    nucleus; ``type_map``: 0 background, 1..C). Upstream CellViT labels
    (``labels/<name>.npy``, a pickled dict) are refused: convert a trusted
    folder once with ``tools/dataset_converters/cellvit_labels_to_npz.py``.

    **Classes** (index 0 must be the background): ``metainfo=dict(classes=
    ('background', ...))`` in the config; otherwise ``label_map.yaml``
    (``{id: name}``, a missing 0 is the background) or the ``nuclei_types``
    of ``dataset_config.yaml`` (``{name: id}``) in ``data_root``, read with
    ``yaml.safe_load``. Without either the dataset asks for them.

    **Tissue**: from ``<fold>/types.csv`` (``img`` = image file name,
    ``type`` = tissue) when present, checked against ``tissue_types``
    (metainfo, else ``dataset_config.yaml``, else the sorted names found).
    Without it every tile is ``'unknown'`` (label 0), unless exactly one
    tissue type is known.

    Each data info: ``img_path``, ``seg_map_path``, ``fold``, ``tissue``,
    ``tissue_label``, ``num_classes`` (C, for the label check of
    :class:`LoadNucleiAnnotations`). Pipelines load with mmseg's
    ``LoadImageFromFile`` and ``LoadNucleiAnnotations``.

    Args:
        data_root (str): Root folder.
        folds (str | Sequence[str] | None): Sub-folders to read, in order
            (``'fold0'``, ``['fold0', 'fold1']``). Defaults to None
            (``data_root`` itself).
        ann_file (str): Optional list of image names to keep (one per line,
            with or without suffix; a CSV's first column; a header line
            ``img``/``image``/``name`` is skipped), relative to
            ``data_root``. Defaults to '' (all images).
        img_suffix (str): Image suffix. Defaults to '.png'.
        **kwargs: Other arguments of :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO: dict = dict()

    def __init__(self,
                 data_root: Optional[str] = None,
                 folds: Union[str, Sequence[str], None] = None,
                 ann_file: str = '',
                 img_suffix: str = '.png',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        if data_root is None:
            raise ValueError('NucleiFolderDataset needs `data_root`.')
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'NucleiFolderDataset: data_root {data_root} is not a '
                'folder.')
        self.folds = (None, ) if folds is None else \
            (folds, ) if isinstance(folds, str) else tuple(folds)
        metainfo = dict(metainfo or {})
        from_files = read_class_files(data_root)
        for key in ('classes', 'tissue_types'):
            if metainfo.get(key) is None and key in from_files:
                metainfo[key] = from_files[key]
        if metainfo.get('classes') is None:
            raise ValueError(
                f'NucleiFolderDataset({data_root}): no class names. Pass '
                "`metainfo=dict(classes=('background', 'A', 'B', ...))` "
                '(index = type id in type_map) or put a label_map.yaml '
                '({id: name}) in data_root.')
        classes = tuple(metainfo['classes'])
        if len(classes) < 2 or str(classes[0]).lower() != 'background':
            raise ValueError(
                f'NucleiFolderDataset: classes must start with "background" '
                f'(type id 0) followed by the nucleus classes, got '
                f'{classes}.')
        seg_map_suffix = kwargs.pop('seg_map_suffix', '.npz')
        if seg_map_suffix == '.npy':
            refuse_pickled_labels(osp.join(data_root, '*', 'labels', '*.npy'))
        if seg_map_suffix != '.npz':
            raise ValueError(
                'NucleiFolderDataset reads .npz labels (arrays inst_map, '
                f'type_map), got seg_map_suffix={seg_map_suffix!r}.')
        super().__init__(
            seg_map_suffix=seg_map_suffix,
            data_root=data_root,
            ann_file=ann_file,
            img_suffix=img_suffix,
            metainfo=metainfo,
            **kwargs)

    def _fold_dir(self, fold: Optional[str]) -> str:
        return self.data_root if fold is None else osp.join(
            self.data_root, fold)

    def _wanted_names(self) -> Optional[List[str]]:
        if not self.ann_file:
            return None
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'NucleiFolderDataset: ann_file {self.ann_file} not found.')
        names = []
        with open(self.ann_file, newline='') as f:
            for row in csv.reader(f):
                if not row or not row[0].strip():
                    continue
                name = row[0].strip()
                if not names and name.lower() in ('img', 'image', 'name'):
                    continue
                if name.endswith(self.img_suffix):
                    name = name[:-len(self.img_suffix)]
                names.append(name)
        return names

    def _tissue_names(self, fold_dir: str, stems: List[str]) -> List[str]:
        """Tissue of each image from ``<fold>/types.csv``; without it the
        only known tissue type, else ``'unknown'``."""
        types_csv = osp.join(fold_dir, 'types.csv')
        if not osp.isfile(types_csv):
            known = self._metainfo.get('tissue_types')
            default = known[0] if known is not None and len(known) == 1 \
                else UNKNOWN_TISSUE
            return [default] * len(stems)
        table = read_types_csv(types_csv)
        tissues = []
        for stem in stems:
            name = stem + self.img_suffix
            tissue = table.get(name, table.get(stem))
            if tissue is None:
                raise ValueError(f'{types_csv}: no tissue for image {name!r};'
                                 ' every image of the folder needs a row.')
            tissues.append(tissue)
        return tissues

    def _tissue_labels(self, infos: List[dict]) -> None:
        """Check every tissue against ``tissue_types`` (the sorted names
        found when not given) and set ``tissue_label``."""
        known = self._metainfo.get('tissue_types')
        if known is None:
            known = tuple(sorted({info['tissue'] for info in infos})) or \
                (UNKNOWN_TISSUE, )
            self._metainfo['tissue_types'] = known
        known = list(known)
        for info in infos:
            if info['tissue'] in known:
                info['tissue_label'] = known.index(info['tissue'])
                continue
            fold_dir = osp.dirname(osp.dirname(info['img_path']))
            if info['tissue'] == UNKNOWN_TISSUE:
                raise ValueError(
                    f'NucleiFolderDataset: {fold_dir} has no types.csv, so '
                    f'the tissue of {info["img_path"]} is unknown, but '
                    f'tissue_types lists {known}. Add types.csv (img,type).')
            raise ValueError(
                f'{osp.join(fold_dir, "types.csv")}: tissue '
                f'{info["tissue"]!r} of image {info["img_path"]} is not one '
                f'of the tissue_types {known}. Fix the name or pass '
                '`metainfo=dict(tissue_types=[...])`.')

    def load_data_list(self) -> List[dict]:
        """List the tiles of ``self.folds``.

        Returns:
            list[dict]: One data info per tile (no pixel data).
        """
        wanted = self._wanted_names()
        wanted_set = None if wanted is None else set(wanted)
        num_classes = len(self.metainfo['classes']) - 1
        data_list = []
        found = set()
        for fold in self.folds:
            fold_dir = self._fold_dir(fold)
            img_dir = osp.join(fold_dir, 'images')
            label_dir = osp.join(fold_dir, 'labels')
            for folder in (img_dir, label_dir):
                if not osp.isdir(folder):
                    raise FileNotFoundError(
                        f'NucleiFolderDataset: {folder} is missing; expected '
                        '<data_root>/<fold>/images and <fold>/labels (see the '
                        'class docstring).')
            stems = sorted(
                (f[:-len(self.img_suffix)]
                 for f in os.listdir(img_dir) if f.endswith(self.img_suffix)),
                key=natural_key)
            if wanted is not None:
                stems = [s for s in stems if s in wanted_set]
                found.update(stems)
            if not stems:
                continue
            for stem in stems:
                label = osp.join(label_dir, stem + self.seg_map_suffix)
                if osp.isfile(label):
                    continue
                npy = osp.join(label_dir, stem + '.npy')
                if osp.isfile(npy):
                    refuse_pickled_labels(npy)
                raise FileNotFoundError(
                    f'NucleiFolderDataset: image '
                    f'{osp.join(img_dir, stem + self.img_suffix)} has no '
                    f'label file {label}.')
            tissues = self._tissue_names(fold_dir, stems)
            for stem, tissue in zip(stems, tissues):
                data_list.append(
                    dict(
                        img_path=osp.join(img_dir, stem + self.img_suffix),
                        seg_map_path=osp.join(label_dir,
                                              stem + self.seg_map_suffix),
                        fold=fold,
                        tissue=tissue,
                        num_classes=num_classes,
                        label_map=self.label_map,
                        reduce_zero_label=self.reduce_zero_label,
                        seg_fields=[]))
        if not data_list and wanted is None:
            raise FileNotFoundError(
                f'NucleiFolderDataset: no *{self.img_suffix} images in the '
                f'images folders of {self.data_root} (folds '
                f'{list(self.folds)}).')
        self._tissue_labels(data_list)
        if wanted is not None:
            missing = [n for n in wanted if n not in found]
            if missing:
                raise ValueError(
                    f'{self.ann_file}: {len(missing)} listed image(s) not '
                    f'found in folds {list(self.folds)}, e.g. {missing[0]!r}.')
        return data_list
