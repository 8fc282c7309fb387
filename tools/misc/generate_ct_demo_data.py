# Copyright (c) mmpathseg contributors. All rights reserved.
"""Generate the synthetic CT-like demo data of the promptable family in the
SA-Med2D-20M layout.

    python tools/misc/generate_ct_demo_data.py [--out data/ct_demo]
        [--num-train 48] [--num-test 16] [--seed 0]

Every image is an axial "abdominal CT" slice, 8-bit grey stored as RGB like
SA-Med2D's PNGs, of a random size around 110 x 130 px (not square, so the
pad-to-square path is exercised): an elliptic body of soft tissue with a fat
rim in air, and up to six organs with their own shape, size, position and
grey level:

=========  =============================================================
liver      large lobed blob on the left of the image (patient's right)
spleen     crescent-like ellipse on the right
kidney     two bright ellipses either side of the spine (two objects of
           one label: ``kidney_000`` and ``kidney_001``)
aorta      small bright disc in front of the spine
vertebra   bone ring with a darker centre at the back
=========  =============================================================

Each organ is one binary mask (0/255 PNG), masks of an image never overlap,
and an organ is sometimes missing, so images have 4 to 6 masks. Smooth
noise, a slight blur and acquisition noise make the intensities CT-like.

Output (SA-Med2D layout, paths relative to OUT)::

    OUT/images/ct_<split>_<i>.png
    OUT/masks/ct_<split>_<i>_<organ>_<NNN>.png
    OUT/image2label_train.json   {image: [masks]}   (train split)
    OUT/label2image_test.json    {mask: image}      (test split)
    OUT/demo_info.json           settings and counts, written last

Image ``i`` of a split only depends on ``(seed, split, i)``; runs are
byte-identical. numpy/scipy/OpenCV only.
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np
from scipy import ndimage

ORGANS = ('liver', 'spleen', 'kidney', 'aorta', 'vertebra')
SPLITS = ('train', 'test')


def _ellipse(shape, cy, cx, ry, rx, angle=0.0) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]].astype(np.float32)
    cos, sin = np.cos(angle), np.sin(angle)
    y, x = yy - cy, xx - cx
    u, v = x * cos + y * sin, -x * sin + y * cos
    return (u / rx)**2 + (v / ry)**2 <= 1.0


def _smooth_noise(rng, shape, sigma) -> np.ndarray:
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return noise / (noise.std() + 1e-8)


def generate_slice(rng: np.random.Generator
                   ) -> Tuple[np.ndarray, List[Tuple[str, np.ndarray]]]:
    """One slice: ``(H, W)`` uint8 image and ``[(name, mask)]``."""
    height = int(rng.integers(100, 121))
    width = int(rng.integers(120, 141))
    shape = (height, width)
    cy, cx = height / 2, width / 2
    body = _ellipse(shape, cy, cx, height * 0.42, width * 0.45)
    inner = _ellipse(shape, cy, cx, height * 0.38, width * 0.41)
    img = np.full(shape, 10.0)
    img[body] = 70.0  # fat rim
    img[inner] = 105.0 + 6 * _smooth_noise(rng, shape, 6)[inner]
    taken = ~inner
    objects: List[Tuple[str, np.ndarray]] = []

    def place(name, mask, level, texture=4.0):
        mask = mask & ~taken
        mask = ndimage.binary_opening(mask, iterations=1)
        if mask.sum() < 12:
            return
        labels, count = ndimage.label(mask)
        if count > 1:  # keep the largest piece: one object per mask
            sizes = ndimage.sum(mask, labels, range(1, count + 1))
            mask = labels == (1 + int(np.argmax(sizes)))
        taken[mask] = True
        img[mask] = level + texture * _smooth_noise(rng, shape, 3)[mask]
        objects.append((name, mask))

    spine_y = cy + height * rng.uniform(0.18, 0.24)
    if rng.random() < 0.95:  # vertebra: ring of bone, darker marrow
        ring = _ellipse(shape, spine_y, cx, height * 0.08, width * 0.07)
        place('vertebra', ring, 215.0, 6.0)
        marrow = _ellipse(shape, spine_y, cx, height * 0.045, width * 0.04)
        img[marrow & ring] = 160.0
    if rng.random() < 0.9:  # aorta in front of the spine
        r = rng.uniform(0.035, 0.05) * height
        place('aorta', _ellipse(shape, spine_y - height * 0.15,
                                cx + rng.uniform(-3, 3), r, r), 185.0, 3.0)
    if rng.random() < 0.9:  # liver: lobed blob, left of the image
        ly = cy - height * rng.uniform(0.02, 0.1)
        lx = cx - width * rng.uniform(0.18, 0.24)
        lobes = _ellipse(shape, ly, lx, height * rng.uniform(0.17, 0.22),
                         width * rng.uniform(0.14, 0.18), rng.uniform(-.4, .4))
        lobes |= _ellipse(shape, ly + height * 0.1, lx + width * 0.08,
                          height * 0.1, width * 0.1)
        wobble = _smooth_noise(rng, shape, 5) > -1.2
        place('liver', lobes & wobble, 150.0)
    if rng.random() < 0.85:  # spleen: right of the image
        place('spleen', _ellipse(
            shape, cy - height * rng.uniform(0.0, 0.1),
            cx + width * rng.uniform(0.25, 0.3),
            height * rng.uniform(.08, .12), width * rng.uniform(.05, .08),
            rng.uniform(.3, .9)), 135.0)
    kidneys = 0
    for side in (-1, 1):  # kidneys either side of the spine
        if rng.random() < 0.9:
            mask = _ellipse(shape, spine_y - height * 0.02,
                            cx + side * width * rng.uniform(0.16, 0.2),
                            height * rng.uniform(0.07, 0.09),
                            width * rng.uniform(0.045, 0.06),
                            side * rng.uniform(0.2, 0.5))
            before = len(objects)
            place(f'kidney_{kidneys:03d}', mask, 170.0)
            kidneys += len(objects) > before
    img = ndimage.gaussian_filter(img, 0.7)
    img += rng.normal(0, 5.0, shape)
    return np.clip(img, 0, 255).astype(np.uint8), objects


def _stem_name(name: str) -> str:
    """``kidney_001`` -> ``kidney_001``; ``liver`` -> ``liver_000``."""
    return name if name[-4:-3] == '_' and name[-3:].isdigit() \
        else f'{name}_000'


def write_dataset(out: str, num_train: int, num_test: int,
                  seed: int = 0) -> Dict:
    """Write both splits, then ``demo_info.json`` (last)."""
    info_path = osp.join(out, 'demo_info.json')
    if osp.exists(info_path):
        os.remove(info_path)
    for sub in ('images', 'masks'):
        os.makedirs(osp.join(out, sub), exist_ok=True)
    train_index: Dict[str, List[str]] = {}
    test_index: Dict[str, str] = {}
    counts = {s: dict(images=0, masks=0) for s in SPLITS}
    for split, num in zip(SPLITS, (num_train, num_test)):
        for i in range(num):
            rng = np.random.default_rng([seed, SPLITS.index(split), i])
            img, objects = generate_slice(rng)
            stem = f'ct_{split}_{i:03d}'
            img_rel = f'images/{stem}.png'
            cv2.imwrite(osp.join(out, img_rel), np.repeat(img[..., None], 3,
                                                          axis=2))
            rels = []
            for name, mask in objects:
                rel = f'masks/{stem}_{_stem_name(name)}.png'
                cv2.imwrite(osp.join(out, rel), mask.astype(np.uint8) * 255)
                rels.append(rel)
            if split == 'train':
                train_index[img_rel] = rels
            else:
                test_index.update({r: img_rel for r in rels})
            counts[split]['images'] += 1
            counts[split]['masks'] += len(rels)
    with open(osp.join(out, 'image2label_train.json'), 'w') as f:
        json.dump(train_index, f, indent=1)
    with open(osp.join(out, 'label2image_test.json'), 'w') as f:
        json.dump(test_index, f, indent=1)
    info = dict(seed=seed, num_train=num_train, num_test=num_test,
                organs=list(ORGANS), counts=counts)
    tmp = f'{info_path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(info, f, indent=2)
    os.replace(tmp, info_path)
    return info


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate CT-like demo data in the SA-Med2D layout')
    parser.add_argument('--out', default='data/ct_demo')
    parser.add_argument('--num-train', type=int, default=48)
    parser.add_argument('--num-test', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    info = write_dataset(args.out, args.num_train, args.num_test, args.seed)
    print(f'{args.out}: ' + ', '.join(
        f'{s} {c["images"]} images / {c["masks"]} masks'
        for s, c in info['counts'].items()))
    return info


if __name__ == '__main__':
    main()
