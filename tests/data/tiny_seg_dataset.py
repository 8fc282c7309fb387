# Copyright (c) mmpathseg contributors. All rights reserved.
"""A tiny two-class segmentation dataset in mmseg's folder layout.

::

    root/img_dir/{train,val}/NNN.png   RGB, uint8, size x size
    root/ann_dir/{train,val}/NNN.png   class index per pixel (0 background,
                                       1 nucleus), uint8

Images are dark tiles with one to three bright discs ("nuclei"); the masks
mark the discs. Deterministic for a given seed.
"""
from pathlib import Path

import numpy as np
from PIL import Image


def make_tiny_seg_dataset(root,
                          num_train: int = 6,
                          num_val: int = 5,
                          size: int = 32,
                          seed: int = 0) -> Path:
    """Write the dataset and return ``root`` as a ``Path``."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    for split, num in (('train', num_train), ('val', num_val)):
        img_dir = root / 'img_dir' / split
        ann_dir = root / 'ann_dir' / split
        img_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
        for i in range(num):
            mask = np.zeros((size, size), np.uint8)
            for _ in range(rng.integers(1, 4)):
                cy, cx = rng.integers(4, size - 4, 2)
                radius = rng.integers(3, 7)
                mask[(yy - cy)**2 + (xx - cx)**2 <= radius**2] = 1
            noise = rng.integers(0, 40, (size, size, 3))
            img = 40 + noise + mask[..., None] * np.array([150, 60, 170])
            Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(
                img_dir / f'{i:03d}.png')
            Image.fromarray(mask).save(ann_dir / f'{i:03d}.png')
    return root
