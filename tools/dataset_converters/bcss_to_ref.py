# Copyright (c) mmpathseg contributors. All rights reserved.
"""Build BCSS-Ref-style referring samples from the BCSS release.

    python tools/dataset_converters/bcss_to_ref.py BCSS_ROOT \
        [--out data/bcss_ref] [--patch-size 512] [--magnifications 20x 40x]
        [--num-folds 5] [--test-fold 0] [--seed 0] [--max-ignore 0.5]
        [--min-area 0.005] [--no-rle]

``BCSS_ROOT`` holds the release's ``rgbs_colorNormalized/*.png`` (0.25 MPP,
i.e. 40x) and ``masks/*.png`` (same names, pixel value = class code 0-21,
``meta/gtruth_codes.tsv``). File names start with the slide id
(``TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500.png``).

What it does:

1. slide-level split: the 151 slides are shuffled with ``--seed`` into
   ``--num-folds`` folds; fold ``--test-fold`` is ``test``, the rest
   ``train`` (the paper: 121/30 slides), so no slide straddles the split;
2. 40x = the release resolution, 20x = the ROI downscaled by 2 (image: area
   averaging, labels: nearest); non-overlapping ``--patch-size`` tiles, the
   remainder at the right/bottom edge is dropped, tiles with more than
   ``--max-ignore`` don't-care pixels (codes 0, 7, 15) are dropped;
3. the four coarse groups (tumor = 1, 19, 20; stroma = 2; inflammatory
   infiltrate = 3, 10, 11; necrosis = 4) are *present* in a tile when they
   cover at least ``--min-area`` of its annotated pixels, *absent* when they
   cover none (groups in between are never referred to);
4. per tile: one single-target expression per present group, one multi-target
   expression over all present groups (when >= 2), one empty-target
   expression about an absent group and one mixed expression (a present and
   an absent group). Expressions are templated from morphology phrases:
   BCSS-Ref's expert descriptions are not public, so these stand in for them.
   Target masks are stored as COCO RLE (pycocotools) unless ``--no-rle``.

Output (schema in ``mmpathseg/datasets/referring_seg.py``)::

    OUT/images/{20x,40x}/<roi>_x<X>_y<Y>.png
    OUT/labels/{20x,40x}/<roi>_x<X>_y<Y>.png   (BCSS codes)
    OUT/annotations/{train,test}.json
    OUT/info.json                              written last
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import sys
from typing import Dict, List, Sequence

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmpathseg.datasets.bcss_ref import (BCSS_IGNORE_CODES,  # noqa: E402
                                         BCSS_REF_GROUPS)

__all__ = ['slide_id_of', 'split_slides', 'tile_roi', 'refs_for_tile',
           'convert', 'main']

SLIDE_RE = re.compile(r'^(TCGA-[A-Z0-9]{2}-[A-Z0-9]{4}(?:-[A-Z0-9]+)?)')
MPP = {'40x': 0.25, '20x': 0.5}
DESCRIPTIONS = {
    'tumor': ('the tumor region', 'nests of pleomorphic tumor cells'),
    'stroma': ('the stroma', 'fibrous stroma'),
    'inflammatory infiltrate': ('the inflammatory infiltrate',
                                'dense sheets of small round lymphocytes'),
    'necrosis': ('the necrosis', 'eosinophilic necrotic debris'),
}


def slide_id_of(name: str) -> str:
    """``TCGA-A1-A0SK-DX1`` from a BCSS file name; ValueError otherwise."""
    match = SLIDE_RE.match(osp.basename(name))
    if match is None:
        raise ValueError(f'{name}: not a BCSS file name (expected '
                         '"TCGA-XX-XXXX-DX1_xmin..._ymin..._MPP-0.2500.png").')
    return match.group(1)


def split_slides(slides: Sequence[str], num_folds: int, test_fold: int,
                 seed: int) -> Dict[str, str]:
    """slide id -> 'train' | 'test' (fold ``test_fold`` of a seeded
    shuffle)."""
    if not 0 <= test_fold < num_folds:
        raise ValueError(f'--test-fold must be in [0, {num_folds}), got '
                         f'{test_fold}.')
    order = np.random.default_rng(seed).permutation(sorted(set(slides)))
    folds = np.array_split(order, num_folds)
    return {
        s: 'test' if k == test_fold else 'train'
        for k, fold in enumerate(folds) for s in fold
    }


def _resize(img: np.ndarray, label: np.ndarray, factor: int):
    import cv2
    if factor == 1:
        return img, label
    h, w = label.shape[0] // factor, label.shape[1] // factor
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    label = cv2.resize(label, (w, h), interpolation=cv2.INTER_NEAREST)
    return img, label


def tile_roi(img: np.ndarray, label: np.ndarray, patch: int,
             max_ignore: float):
    """Yield ``(x, y, img_tile, label_tile)`` of non-overlapping tiles with
    at most ``max_ignore`` don't-care pixels."""
    ignore = np.isin(label, BCSS_IGNORE_CODES)
    for y in range(0, label.shape[0] - patch + 1, patch):
        for x in range(0, label.shape[1] - patch + 1, patch):
            if ignore[y:y + patch, x:x + patch].mean() > max_ignore:
                continue
            yield (x, y, img[y:y + patch, x:x + patch],
                   label[y:y + patch, x:x + patch])


def _rle(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def refs_for_tile(label: np.ndarray, image_id: int, first_ref_id: int,
                  rng: np.random.Generator, min_area: float,
                  with_rle: bool = True) -> List[dict]:
    """Referring expressions of one tile (module docstring, step 4)."""
    valid = ~np.isin(label, BCSS_IGNORE_CODES)
    n_valid = max(int(valid.sum()), 1)
    present, absent, masks = [], [], {}
    for cat_id, name, codes in BCSS_REF_GROUPS:
        mask = np.isin(label, codes) & valid
        area = int(mask.sum())
        masks[cat_id] = mask
        if area >= min_area * n_valid and area > 0:
            present.append((cat_id, name))
        elif area == 0:
            absent.append((cat_id, name))

    def target(cat):
        mask = masks[cat[0]]
        area = int(mask.sum())
        return dict(
            phrase=cat[1], category_ids=[cat[0]], empty=area == 0,
            area=area, mask=_rle(mask) if with_rle and area else None)

    def desc(cat):
        return DESCRIPTIONS[cat[1]][rng.integers(2)]

    groups = [('single', [c]) for c in present]
    if len(present) >= 2:
        groups.append(('multi', list(present)))
    if absent:
        gone = absent[rng.integers(len(absent))]
        groups.append(('empty', [gone]))
        if present:
            groups.append(('mixed', [present[rng.integers(len(present))],
                                     gone]))
    refs = []
    for k, (kind, cats) in enumerate(groups):
        targets = [target(c) for c in cats]
        refs.append(
            dict(
                id=first_ref_id + k,
                image_id=image_id,
                expression=' and '.join(desc(c) for c in cats),
                expression_type=kind,
                targets=targets,
                no_target=all(t['empty'] for t in targets),
                source='template'))
    return refs


def convert(root: str,
            out: str,
            patch_size: int = 512,
            magnifications: Sequence[str] = ('20x', '40x'),
            num_folds: int = 5,
            test_fold: int = 0,
            seed: int = 0,
            max_ignore: float = 0.5,
            min_area: float = 0.005,
            with_rle: bool = True) -> dict:
    """Convert; returns the counts written to ``out/info.json``."""
    import cv2
    img_dir = osp.join(root, 'rgbs_colorNormalized')
    mask_dir = osp.join(root, 'masks')
    for folder in (img_dir, mask_dir):
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{folder} not found: BCSS_ROOT must hold the release '
                'folders rgbs_colorNormalized/ and masks/.')
    for mag in magnifications:
        if mag not in MPP:
            raise ValueError(f'--magnifications: {mag!r} not in {list(MPP)}.')
    names = sorted(osp.basename(p) for p in glob.glob(osp.join(img_dir,
                                                                '*.png')))
    if not names:
        raise FileNotFoundError(f'no PNG images in {img_dir}.')
    slides = {n: slide_id_of(n) for n in names}
    split_of = split_slides(list(slides.values()), num_folds, test_fold,
                            seed)
    info_path = osp.join(out, 'info.json')
    if osp.exists(info_path):
        os.remove(info_path)
    anns = {
        s: dict(images=[], refs=[]) for s in ('train', 'test')
    }
    rng = np.random.default_rng(seed)
    for name in names:
        img = cv2.imread(osp.join(img_dir, name), cv2.IMREAD_COLOR)
        label = cv2.imread(osp.join(mask_dir, name), cv2.IMREAD_UNCHANGED)
        if img is None or label is None:
            raise FileNotFoundError(f'{name}: image or mask missing/'
                                    f'unreadable under {root}.')
        if label.ndim == 3:
            label = label[..., 0]
        if label.shape != img.shape[:2]:
            raise ValueError(f'{name}: mask {label.shape} and image '
                             f'{img.shape[:2]} differ.')
        if label.max() > 21:
            raise ValueError(f'{name}: mask value {label.max()} is not a '
                             'BCSS code (0-21).')
        split = split_of[slides[name]]
        stem = osp.splitext(name)[0]
        for mag in magnifications:
            factor = 2 if mag == '20x' else 1
            img_m, label_m = _resize(img, label, factor)
            os.makedirs(osp.join(out, 'images', mag), exist_ok=True)
            os.makedirs(osp.join(out, 'labels', mag), exist_ok=True)
            for x, y, tile, tile_label in tile_roi(img_m, label_m,
                                                   patch_size, max_ignore):
                ann = anns[split]
                image_id = len(ann['images'])
                refs = refs_for_tile(tile_label, image_id, len(ann['refs']),
                                     rng, min_area, with_rle)
                if not refs:
                    continue
                file_name = f'{mag}/{stem}_x{x}_y{y}.png'
                cv2.imwrite(osp.join(out, 'images', file_name), tile)
                cv2.imwrite(osp.join(out, 'labels', file_name), tile_label)
                ann['images'].append(
                    dict(
                        id=image_id, file_name=file_name,
                        label_file=file_name, height=patch_size,
                        width=patch_size, magnification=mag, mpp=MPP[mag],
                        slide_id=slides[name], roi_file=name,
                        patch_origin=[x, y], split=split))
                ann['refs'] += refs
    categories = [
        dict(id=i, name=n, label_values=list(c), supercategory='tissue')
        for i, n, c in BCSS_REF_GROUPS
    ]
    os.makedirs(osp.join(out, 'annotations'), exist_ok=True)
    counts = {}
    for split, ann in anns.items():
        ann.update(
            info=dict(name='bcss_ref', source='BCSS', mpp=MPP,
                      patch_size=patch_size, seed=seed, test_fold=test_fold,
                      num_folds=num_folds),
            categories=categories,
            ignore_values=list(BCSS_IGNORE_CODES))
        with open(osp.join(out, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(ann, f)
        counts[split] = dict(
            slides=len({i['slide_id'] for i in ann['images']}),
            images={m: sum(i['magnification'] == m for i in ann['images'])
                    for m in magnifications},
            refs=len(ann['refs']),
            empty_targets=sum(t['empty'] for r in ann['refs']
                              for t in r['targets']))
    with open(info_path, 'w') as f:
        json.dump(dict(counts=counts, patch_size=patch_size), f, indent=2)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='BCSS release folder')
    parser.add_argument('--out', default='data/bcss_ref')
    parser.add_argument('--patch-size', type=int, default=512)
    parser.add_argument('--magnifications', nargs='+', default=['20x', '40x'])
    parser.add_argument('--num-folds', type=int, default=5)
    parser.add_argument('--test-fold', type=int, default=0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-ignore', type=float, default=0.5)
    parser.add_argument('--min-area', type=float, default=0.005)
    parser.add_argument('--no-rle', action='store_true')
    args = parser.parse_args(argv)
    counts = convert(args.root, args.out, args.patch_size,
                     args.magnifications, args.num_folds, args.test_fold,
                     args.seed, args.max_ignore, args.min_area,
                     not args.no_rle)
    print(json.dumps(counts, indent=2))
    return counts


if __name__ == '__main__':
    main()
