# Copyright (c) mmpathseg contributors. All rights reserved.
"""Generate the synthetic tissue referring-segmentation demo dataset.

    python tools/misc/generate_tissue_ref_demo_data.py \
        [--out data/tissue_ref_demo] [--num-train 64] [--num-val 16]
        [--size 128] [--seed 0]

Each tile is an H&E-like tissue map of two or three of four referable tissues
(tumor: dense dark-purple nuclei; stroma: pink fibres; inflammatory
infiltrate: small dark dots on pale pink; necrosis: pale grey-pink speckle)
on a fat/background class, with a thin unannotated border (value 0, ignored,
as BCSS code 0). Label values: 0 ignore, 1 tumor, 2 stroma, 3 inflammatory
infiltrate, 4 necrosis, 5 fat.

Every tile gets five referring expressions (``annotations/{split}.json``,
schema in ``mmpathseg/datasets/referring_seg.py``):

* single: one present tissue;
* multi: two present tissues (two targets);
* empty: one absent tissue (one empty target -> [REJ]);
* mixed: one present and one absent tissue;
* all: every present tissue.

Layout::

    OUT/images/{split}_{i:04d}.png   RGB
    OUT/labels/{split}_{i:04d}.png   uint8 label map
    OUT/annotations/{train,val}.json
    OUT/info.json                    settings, written last

Tile ``i`` of a split only depends on ``(seed, split, i)``; every run writes
the same bytes.
"""
import argparse
import json
import os
import os.path as osp
import zlib
from typing import Dict, List, Tuple

import numpy as np
from scipy import ndimage

__all__ = ['TISSUES', 'DESCRIPTIONS', 'generate_tile', 'make_refs',
           'write_dataset', 'main']

# (category id = label value, name used in answers)
TISSUES = ((1, 'tumor'), (2, 'stroma'), (3, 'inflammatory infiltrate'),
           (4, 'necrosis'))
FAT = 5
DESCRIPTIONS = {
    1: ('the tumor region', 'nests of tumor cells'),
    2: ('the stroma', 'fibrous stroma'),
    3: ('the inflammatory infiltrate', 'clusters of lymphocytes'),
    4: ('the necrosis', 'necrotic debris'),
}
_COLOURS = {  # base RGB, texture RGB
    1: ((200, 150, 200), (90, 30, 120)),
    2: ((235, 140, 175), (200, 80, 130)),
    3: ((240, 200, 220), (50, 20, 90)),
    4: ((215, 200, 205), (170, 140, 160)),
    FAT: ((250, 245, 248), (235, 225, 235)),
}
_DENSITY = {1: 0.45, 2: 0.25, 3: 0.3, 4: 0.5, FAT: 0.05}


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng(
        [seed, zlib.crc32(split.encode()), index])


def generate_tile(rng: np.random.Generator,
                  size: int = 128) -> Tuple[np.ndarray, np.ndarray]:
    """One ``(size, size, 3)`` uint8 RGB tile and its uint8 label map."""
    present = sorted(rng.choice([1, 2, 3, 4], rng.integers(2, 4),
                                replace=False).tolist())
    classes = present + [FAT]
    fields = []
    for c in classes:
        noise = ndimage.gaussian_filter(
            rng.standard_normal((size, size)), sigma=size / 8)
        bias = -0.6 if c == FAT else 0.0
        fields.append(noise / noise.std() + bias)
    label = np.asarray(classes, np.uint8)[np.argmax(fields, axis=0)]
    # every present tissue keeps at least a small patch
    for c in present:
        if (label == c).sum() < size * size // 40:
            y, x = rng.integers(0, size - size // 4, 2)
            label[y:y + size // 4, x:x + size // 4] = c
    img = np.zeros((size, size, 3), np.float64)
    for c in classes:
        base, tex = (np.asarray(v, np.float64) for v in _COLOURS[c])
        dots = rng.random((size, size)) < _DENSITY[c]
        if c == 2:  # fibres: stretched noise
            fib = ndimage.gaussian_filter(
                rng.standard_normal((size, size)), sigma=(0.7, 4))
            dots = fib > 0.15
        dots = ndimage.binary_dilation(dots, iterations=1 if c == 1 else 0) \
            if c == 1 else dots
        layer = np.where(dots[..., None], tex, base)
        img[label == c] = layer[label == c]
    img += rng.normal(0, 6, img.shape)
    img = ndimage.gaussian_filter(img, sigma=(0.6, 0.6, 0))
    border = max(1, size // 32)
    label[:border] = 0
    label[:, :border] = 0
    if sum((label == c).any() for c in present) < 2:  # rare: redraw
        return generate_tile(rng, size)
    return np.clip(img, 0, 255).astype(np.uint8), label


def make_refs(rng: np.random.Generator, label: np.ndarray, image_id: int,
              first_ref_id: int) -> List[Dict]:
    """The five expressions of a tile (module docstring)."""
    names = dict(TISSUES)
    present = [c for c, _ in TISSUES if (label == c).any()]
    absent = [c for c, _ in TISSUES if c not in present]

    def target(c):
        area = int((label == c).sum())
        return dict(
            phrase=names[c], category_ids=[c], empty=area == 0, area=area,
            mask=None)

    def desc(c):
        return DESCRIPTIONS[c][rng.integers(2)]

    p = [int(c) for c in rng.permutation(present)]
    a = [int(c) for c in rng.permutation(absent)]
    groups = [('single', [p[0]]), ('multi', p[:2]), ('empty', [a[0]]),
              ('mixed', [p[1], a[0]]), ('all', sorted(present))]
    refs = []
    for k, (kind, cats) in enumerate(groups):
        refs.append(
            dict(
                id=first_ref_id + k,
                image_id=image_id,
                expression=' and '.join(desc(c) for c in cats),
                expression_type=kind,
                targets=[target(c) for c in cats],
                no_target=all((label != c).all() for c in cats),
                source='template'))
    return refs


def _write_png(path: str, array: np.ndarray):
    from PIL import Image
    Image.fromarray(array).save(path, optimize=False, compress_level=6)


def write_dataset(out: str,
                  num_train: int = 64,
                  num_val: int = 16,
                  size: int = 128,
                  seed: int = 0) -> Dict:
    """Write the dataset to ``out``; ``out/info.json`` is written last."""
    if num_train < 1 or num_val < 1 or size < 32:
        raise ValueError('--num-train/--num-val must be >= 1 and --size >= '
                         f'32, got {num_train}, {num_val}, {size}.')
    info_path = osp.join(out, 'info.json')
    if osp.exists(info_path):
        os.remove(info_path)
    for sub in ('images', 'labels', 'annotations'):
        os.makedirs(osp.join(out, sub), exist_ok=True)
    categories = [
        dict(id=c, name=n, label_values=[c], supercategory='tissue')
        for c, n in TISSUES
    ]
    counts = {}
    for split, num in (('train', num_train), ('val', num_val)):
        images, refs = [], []
        for i in range(num):
            rng = _rng(seed, split, i)
            img, label = generate_tile(rng, size)
            name = f'{split}_{i:04d}.png'
            _write_png(osp.join(out, 'images', name), img)
            _write_png(osp.join(out, 'labels', name), label)
            images.append(
                dict(
                    id=i, file_name=name, label_file=name, height=size,
                    width=size, magnification='20x' if i % 2 else '40x',
                    slide_id=f'demo-slide-{i // 4:03d}', split=split))
            refs += make_refs(rng, label, i, len(refs))
        ann = dict(
            info=dict(name='tissue_ref_demo', version='1.0', seed=seed),
            categories=categories, ignore_values=[0], images=images,
            refs=refs)
        with open(osp.join(out, 'annotations', f'{split}.json'), 'w') as f:
            json.dump(ann, f)
        counts[split] = dict(images=len(images), refs=len(refs))
    info = dict(
        generator='tools/misc/generate_tissue_ref_demo_data.py',
        seed=seed, size=size, counts=counts)
    with open(info_path, 'w') as f:
        json.dump(info, f, indent=2)
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/tissue_ref_demo')
    parser.add_argument('--num-train', type=int, default=64)
    parser.add_argument('--num-val', type=int, default=16)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    info = write_dataset(args.out, args.num_train, args.num_val, args.size,
                         args.seed)
    print(json.dumps(info['counts']))
    return info


if __name__ == '__main__':
    main()
