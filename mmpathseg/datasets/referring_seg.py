# Copyright (c) mmpathseg contributors. All rights reserved.
"""Referring segmentation annotations (BCSS-Ref layout) and their dataset.

One JSON file per split, COCO/gRefCOCO-like::

    {"info": {...},
     "categories": [{"id": 1, "name": "tumor", "label_values": [1, 19, 20]}],
     "ignore_values": [0, 7, 15],          # label-map values excluded
     "images": [{"id": 0, "file_name": "x.png", "label_file": "x.png",
                 "height": 512, "width": 512, "magnification": "20x",
                 "slide_id": "TCGA-A1-A0SK-DX1", ...}],
     "refs": [{"id": 0, "image_id": 0, "expression": "...",
               "targets": [{"phrase": "tumor", "category_ids": [1],
                            "empty": false, "area": 1234,
                            "mask": null | COCO RLE}]}]}

``targets`` is ordered: target ``j`` is answer slot ``j`` ("tumor:[SEG],
necrosis:[REJ]"). A target's mask is its RLE when given, otherwise the pixels
of the label map whose value is in the ``label_values`` of its categories;
``empty`` must agree with the mask (checked when the masks are loaded). The
answer text is *not* stored: the pipeline builds it at load time.
"""
import copy
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.dataset import BaseDataset

from mmpathseg.registry import DATASETS

__all__ = ['ReferringSegDataset', 'load_referring_annotations']

_IMAGE_KEYS = ('id', 'file_name', 'height', 'width')
_REF_KEYS = ('id', 'image_id', 'expression', 'targets')
_TARGET_KEYS = ('phrase', 'empty')


def _require(record: dict, keys: Sequence[str], where: str, path: str):
    missing = [k for k in keys if k not in record]
    if missing:
        raise KeyError(f'{path}: {where} lacks {missing} (has '
                       f'{sorted(record)}); see the schema in '
                       'mmpathseg/datasets/referring_seg.py.')


def load_referring_annotations(path: str) -> dict:
    """Read and validate one annotation file (see the module docstring).

    Raises:
        FileNotFoundError / KeyError / ValueError naming the file, the record
        and the fix.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'referring annotations {path!r} not found: generate the demo '
            'data (tools/misc/generate_tissue_ref_demo_data.py) or convert '
            'BCSS (tools/dataset_converters/bcss_to_ref.py), or set the '
            "config's data_root/ann_file.")
    with open(path) as f:
        ann = json.load(f)
    for key in ('categories', 'images', 'refs'):
        if key not in ann:
            raise KeyError(f'{path}: top-level key {key!r} missing.')
    cat_ids = set()
    for cat in ann['categories']:
        _require(cat, ('id', 'name', 'label_values'), 'a category', path)
        cat_ids.add(cat['id'])
    image_ids = set()
    for img in ann['images']:
        _require(img, _IMAGE_KEYS, f'image {img.get("id")!r}', path)
        image_ids.add(img['id'])
    for ref in ann['refs']:
        where = f'ref {ref.get("id")!r}'
        _require(ref, _REF_KEYS, where, path)
        if ref['image_id'] not in image_ids:
            raise ValueError(f'{path}: {where} points at image_id '
                             f'{ref["image_id"]!r}, which is not in images.')
        if not ref['targets']:
            raise ValueError(f'{path}: {where} has no targets; an expression '
                             'about absent tissue needs one target with '
                             '"empty": true.')
        for j, target in enumerate(ref['targets']):
            _require(target, _TARGET_KEYS, f'{where} target {j}', path)
            unknown = set(target.get('category_ids', [])) - cat_ids
            if unknown:
                raise ValueError(f'{path}: {where} target {j} names unknown '
                                 f'category ids {sorted(unknown)}.')
            if target.get('mask') is None and not target.get('category_ids') \
                    and not target['empty']:
                raise ValueError(
                    f'{path}: {where} target {j} is not empty but has '
                    'neither "mask" (RLE) nor "category_ids".')
    return ann


@DATASETS.register_module()
class ReferringSegDataset(BaseDataset):
    """Referring segmentation samples: one per expression (GSVA/LTSE), or one
    per target when ``split_targets`` (LISA's one-[SEG] conversations).

    Args:
        ann_file (str): The annotation JSON (relative to ``data_root``).
        data_prefix (dict): ``img_path`` and ``seg_map_path`` folders.
        magnifications (Sequence[str], optional): Keep only images of these
            ``magnification`` values (e.g. ``('20x',)``). None keeps all.
        max_targets (int): M, the number of answer slots; a ref with more
            targets raises. Defaults to 10.
        split_targets (bool): One sample per target, the expression replaced
            by the target's phrase (LISA). Defaults to False.
        drop_all_empty (bool): Drop refs whose targets are all empty (GSVA
            redraws such training samples). Defaults to False.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments.

    Each data info holds ``img_path``, ``seg_map_path`` (or None),
    ``expression``, ``targets`` (list of dicts with ``phrase``,
    ``label_values``, ``empty``, ``mask`` (RLE or None)), ``ignore_values``,
    ``magnification``, ``slide_id``, ``ref_id``, ``image_id``.
    """
    METAINFO = dict(classes=())

    def __init__(self,
                 *args,
                 magnifications: Optional[Sequence[str]] = None,
                 max_targets: int = 10,
                 split_targets: bool = False,
                 drop_all_empty: bool = False,
                 **kwargs):
        if max_targets < 1:
            raise ValueError(f'ReferringSegDataset: max_targets must be >= 1, '
                             f'got {max_targets}.')
        self.magnifications = None if magnifications is None else \
            tuple(magnifications)
        self.max_targets = max_targets
        self.split_targets = split_targets
        self.drop_all_empty = drop_all_empty
        kwargs.setdefault('data_prefix', dict(img_path='', seg_map_path=''))
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        ann = load_referring_annotations(self.ann_file)
        values = {c['id']: list(c['label_values']) for c in ann['categories']}
        self._metainfo['classes'] = tuple(c['name'] for c in ann['categories'])
        ignore_values = list(ann.get('ignore_values', []))
        images = {img['id']: img for img in ann['images']}
        img_root = self.data_prefix.get('img_path', '')
        seg_root = self.data_prefix.get('seg_map_path', '')
        data_list = []
        for ref in ann['refs']:
            img = images[ref['image_id']]
            mag = img.get('magnification')
            if self.magnifications is not None and \
                    mag not in self.magnifications:
                continue
            targets = []
            for target in ref['targets']:
                codes = sorted({v for c in target.get('category_ids', [])
                                for v in values[c]})
                targets.append(
                    dict(
                        phrase=target['phrase'],
                        label_values=codes,
                        empty=bool(target['empty']),
                        mask=target.get('mask')))
            if len(targets) > self.max_targets:
                raise ValueError(
                    f'{self.ann_file}: ref {ref["id"]} has {len(targets)} '
                    f'targets but max_targets (M) is {self.max_targets}; '
                    'raise max_targets or split the expression.')
            if self.drop_all_empty and all(t['empty'] for t in targets):
                continue
            label = img.get('label_file')
            base = dict(
                img_path=osp.join(img_root, img['file_name']),
                seg_map_path=None if label is None else osp.join(
                    seg_root, label),
                ignore_values=ignore_values,
                magnification=mag,
                slide_id=img.get('slide_id'),
                ref_id=ref['id'],
                image_id=img['id'],
                ori_height=img['height'],
                ori_width=img['width'])
            if self.split_targets:
                for j, target in enumerate(targets):
                    info = copy.deepcopy(base)
                    info.update(
                        expression=target['phrase'],
                        targets=[target],
                        target_index=j)
                    data_list.append(info)
            else:
                base.update(expression=ref['expression'], targets=targets)
                data_list.append(base)
        if not data_list:
            raise ValueError(
                f'{self.ann_file}: no samples left (magnifications='
                f'{self.magnifications}, drop_all_empty='
                f'{self.drop_all_empty}); check the filters.')
        return data_list
