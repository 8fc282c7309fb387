# Copyright (c) mmpathseg contributors. All rights reserved.
"""Generate the synthetic chest X-ray demo of the text-guided family.

    python tools/misc/generate_xray_demo_data.py [--out data/xray_demo]
        [--num-train 320] [--num-val 64] [--num-test 96] [--size 64]
        [--seed 0]

Each image is a frontal chest radiograph caricature: a bright body outline,
two dark lung fields, ribs, the spine and the heart shadow. Each lung is cut
into an upper, middle and lower zone. One to three zones hold an
**infection** (a soft bright opacity; annotated in the mask); most images
also hold one or two **other opacities** that look the same but are not
infections (think old scars; not annotated). The report sentence follows
LViT's QaTa template and states the laterality, the **number** of infected
areas and their **zones**, e.g.::

    Bilateral pulmonary infection, two infected areas, upper left lung and
    lower right lung.

So the image alone cannot tell infections from look-alikes, and the report
can: a model that reads it should beat the same model without it. "Left"
is the image's left, as in LViT's template masks.

Layout (read by ``TextSegDataset``, configs/_base_/datasets/xray_demo.py)::

    OUT/images/xray_<split>_<i>.png   (S, S) uint8 grey
    OUT/masks/xray_<split>_<i>.png    (S, S) uint8, 255 = infection
    OUT/{train,val,test}.csv          columns Image, Description
    OUT/tokenizer/vocab.txt           WordPiece vocabulary of the reports
    OUT/tokenizer/tokenizer_config.json
    OUT/demo_info.json                generator settings, written last

Image ``i`` of a split depends only on ``(seed, split, i)``; every run writes
the same bytes. Pure numpy/scipy/Pillow.
"""
import argparse
import csv
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = ['ZONES', 'describe', 'generate_image', 'write_dataset', 'main']

GENERATOR_VERSION = 1
SIDES = ('left', 'right')
LEVELS = ('upper', 'middle', 'lower')
ZONES = tuple((side, level) for side in SIDES for level in LEVELS)
NUMBERS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six')
SPLITS = ('train', 'val', 'test')
SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']


def describe(zones: List[Tuple[str, str]]) -> str:
    """LViT-style report of the infected ``(side, level)`` zones."""
    sides = [s for s in SIDES if any(z[0] == s for z in zones)]
    n = len(zones)
    parts = []
    for side in sides:
        levels = [lv for lv in LEVELS if (side, lv) in zones]
        parts.append(' '.join(levels) + f' {side} lung')
    lateral = 'Bilateral' if len(sides) == 2 else 'Unilateral'
    area = 'area' if n == 1 else 'areas'
    return (f'{lateral} pulmonary infection, {NUMBERS[n]} infected {area}, '
            f'{" and ".join(parts)}.')


def _vocabulary() -> List[str]:
    words = {'bilateral', 'unilateral', 'pulmonary', 'infection', 'infected',
             'area', 'areas', 'lung', 'and', ',', '.', 'pneumonia'}
    words.update(SIDES)
    words.update(LEVELS)
    words.update(NUMBERS[1:4])
    return SPECIAL_TOKENS + sorted(words)


def _ellipse(shape, cy, cx, ry, rx, angle=0.0) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]].astype(np.float32)
    y, x = yy - cy, xx - cx
    c, s = np.cos(angle), np.sin(angle)
    u, v = (x * c + y * s) / rx, (-x * s + y * c) / ry
    return u * u + v * v


def _lung_geometry(size: int, rng) -> Dict[str, Tuple[float, ...]]:
    """Centre and radii of each lung field, jittered per image."""
    cy = size * (0.50 + rng.uniform(-0.03, 0.03))
    ry = size * rng.uniform(0.30, 0.34)
    rx = size * rng.uniform(0.16, 0.19)
    gap = size * rng.uniform(0.20, 0.24)
    return {
        'left': (cy, size / 2 - gap, ry, rx),
        'right': (cy, size / 2 + gap, ry, rx),
    }


def _zone_centre(geom, zone, rng) -> Tuple[float, float]:
    side, level = zone
    cy, cx, ry, rx = geom[side]
    offset = {'upper': -0.58, 'middle': 0.0, 'lower': 0.58}[level]
    return (cy + offset * ry + rng.uniform(-0.1, 0.1) * ry,
            cx + rng.uniform(-0.3, 0.3) * rx)


def generate_image(size: int, rng) -> Tuple[np.ndarray, np.ndarray, str,
                                              dict]:
    """One ``(image, mask, report, info)``: uint8 ``(S, S)`` image, uint8
    ``(S, S)`` 0/255 mask."""
    shape = (size, size)
    img = np.full(shape, 0.08, np.float32)
    body = _ellipse(shape, size * 0.55, size / 2, size * 0.55, size * 0.47)
    img[body <= 1] = 0.62
    geom = _lung_geometry(size, rng)
    lungs = np.zeros(shape, bool)
    for side in SIDES:
        cy, cx, ry, rx = geom[side]
        lungs |= _ellipse(shape, cy, cx, ry, rx) <= 1
    img[lungs] = 0.22
    # Ribs: bright bands curving across the lungs.
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    for k in range(6):
        y0 = size * (0.24 + 0.11 * k)
        curve = y0 + 0.004 * (xx - size / 2)**2 / (size / 64)
        img[(np.abs(yy - curve) < size * 0.018) & lungs] += 0.10
    # Spine and heart shadow.
    img[np.abs(xx - size / 2) < size * 0.05] = 0.75
    heart = _ellipse(shape, size * 0.66, size * 0.55, size * 0.15,
                     size * 0.13)
    img[heart <= 1] = 0.70
    # Infections and look-alike opacities in distinct zones.
    n_inf = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.20]))
    n_other = int(rng.choice([0, 1, 2], p=[0.15, 0.50, 0.35]))
    order = rng.permutation(len(ZONES))
    infected = [ZONES[i] for i in order[:n_inf]]
    others = [ZONES[i] for i in order[n_inf:n_inf + n_other]]
    mask = np.zeros(shape, bool)
    opacity = np.zeros(shape, np.float32)
    for zone in infected + others:
        cy, cx = _zone_centre(geom, zone, rng)
        blob = _ellipse(shape, cy, cx, size * rng.uniform(0.06, 0.09),
                        size * rng.uniform(0.05, 0.08),
                        rng.uniform(0, np.pi)) <= 1
        blob &= lungs
        if zone in infected:
            mask |= blob
        opacity[blob] = np.maximum(opacity[blob], rng.uniform(0.30, 0.40))
    img += ndimage.gaussian_filter(opacity, size / 96)
    img = ndimage.gaussian_filter(img, size / 128)
    img += rng.normal(0, 0.035, shape).astype(np.float32)
    img = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    report = describe(infected)
    info = dict(infected=[' '.join(z) for z in infected],
                others=[' '.join(z) for z in others])
    return img, mask.astype(np.uint8) * 255, report, info


def write_dataset(out: str, num: Dict[str, int], size: int = 64,
                  seed: int = 0) -> dict:
    """Write every split, the tokenizer and ``demo_info.json`` (last)."""
    for sub in ('images', 'masks', 'tokenizer'):
        os.makedirs(osp.join(out, sub), exist_ok=True)
    with open(osp.join(out, 'tokenizer', 'vocab.txt'), 'w') as f:
        f.write('\n'.join(_vocabulary()) + '\n')
    with open(osp.join(out, 'tokenizer', 'tokenizer_config.json'), 'w') as f:
        json.dump(dict(do_lower_case=True, model_max_length=512), f)
    counts = {}
    for split_id, split in enumerate(SPLITS):
        rows = [('Image', 'Description')]
        n_lesions = []
        for i in range(num[split]):
            rng = np.random.default_rng([seed, split_id, i])
            img, mask, report, info = generate_image(size, rng)
            name = f'xray_{split}_{i:04d}.png'
            Image.fromarray(img).save(osp.join(out, 'images', name))
            Image.fromarray(mask).save(osp.join(out, 'masks', name))
            rows.append((name, report))
            n_lesions.append(len(info['infected']))
        with open(osp.join(out, f'{split}.csv'), 'w', newline='') as f:
            csv.writer(f).writerows(rows)
        counts[split] = dict(
            images=num[split], mean_infections=float(np.mean(n_lesions)))
    info = dict(
        generator='tools/misc/generate_xray_demo_data.py',
        version=GENERATOR_VERSION,
        seed=seed,
        size=size,
        splits=counts,
        zones=[' '.join(z) for z in ZONES],
        left_means='image left')
    with open(osp.join(out, 'demo_info.json'), 'w') as f:
        json.dump(info, f, indent=2)
    return info


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/xray_demo')
    parser.add_argument('--num-train', type=int, default=320)
    parser.add_argument('--num-val', type=int, default=64)
    parser.add_argument('--num-test', type=int, default=96)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    info = write_dataset(
        args.out,
        dict(train=args.num_train, val=args.num_val, test=args.num_test),
        size=args.size,
        seed=args.seed)
    print(f'wrote {args.out}: ' + ', '.join(
        f'{k} {v["images"]}' for k, v in info['splits'].items()))
    return info


if __name__ == '__main__':
    main()
