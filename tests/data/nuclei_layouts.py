# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiny nuclei datasets made by code for tests: the CoNIC release layout and
the per-image (CellViT, pickle-free) layout."""
import csv
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

CONIC_CLASSES = ('neutrophil', 'epithelial', 'lymphocyte', 'plasma',
                 'eosinophil', 'connective')
# cohort -> number of patches of each of its source images
CONIC_SOURCES: Dict[str, Sequence[int]] = dict(
    consep=(3, 1, 2),
    crag=(2, 2, 1, 3, 1, 2),
    dpath=(1, 2, 2, 1),
    glas=(2, 1, 1, 2, 3),
    pannuke=(1, 1))


def make_tile(size: int, num: int, num_classes: int,
              seed: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An RGB uint8 tile with ``num`` disk nuclei (radius 2..6, later ones
    on top), its int32 instance map (ids 1..n) and uint8 type map."""
    rng = np.random.default_rng(seed)
    inst = np.zeros((size, size), np.int32)
    for k in range(1, num + 1):
        centre = (int(rng.integers(0, size)), int(rng.integers(0, size)))
        cv2.circle(inst, centre, int(rng.integers(2, 7)), k, -1)
    ids = np.unique(inst)[1:]
    inst_new = np.zeros_like(inst)  # contiguous 1..n, as CoNIC
    for new, old in enumerate(ids, start=1):
        inst_new[inst == old] = new
    lut = np.zeros(len(ids) + 1, np.uint8)
    lut[1:] = rng.integers(1, num_classes + 1, len(ids))
    types = lut[inst_new]
    img = rng.integers(170, 256, (size, size, 3)).astype(np.uint8)
    img[inst_new > 0] = (img[inst_new > 0] * 0.4).astype(np.uint8)
    return img, inst_new, types


def central_counts(inst: np.ndarray, types: np.ndarray,
                   window: int) -> List[int]:
    size = inst.shape[0]
    lo = (size - window) // 2
    crop_i = inst[lo:lo + window, lo:lo + window]
    crop_t = types[lo:lo + window, lo:lo + window]
    counts = [0] * len(CONIC_CLASSES)
    for i in np.unique(crop_i[crop_i > 0]):
        counts[int(crop_t[crop_i == i][0]) - 1] += 1
    return counts


def conic_patch_names(
        sources: Dict[str, Sequence[int]] = CONIC_SOURCES) -> List[str]:
    names = []
    for cohort, patches in sources.items():
        for s, count in enumerate(patches, start=1):
            names += [f'{cohort}_{s}-{p:04d}' for p in range(count)]
    return names


def make_conic(root,
               size: int = 64,
               num_nuclei: int = 12,
               sources: Dict[str, Sequence[int]] = CONIC_SOURCES,
               label_dtype=np.int32) -> Path:
    """Write images.npy, labels.npy, patch_info.csv and counts.csv."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    names = conic_patch_names(sources)
    images, labels, counts = [], [], []
    for index in range(len(names)):
        img, inst, types = make_tile(size, num_nuclei, 6, seed=index)
        images.append(img)
        labels.append(np.stack([inst, types], -1).astype(label_dtype))
        counts.append(central_counts(inst, types, size * 7 // 8))
    np.save(root / 'images.npy', np.stack(images))
    np.save(root / 'labels.npy', np.stack(labels))
    with open(root / 'patch_info.csv', 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['patch_info'])
        writer.writerows([n] for n in names)
    with open(root / 'counts.csv', 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(CONIC_CLASSES)
        writer.writerows(counts)
    return root


def make_nuclei_folder(
    root,
    folds: Dict[str, int],
    size: int = 48,
    num_classes: int = 3,
    tissues: Sequence[str] = ('Breast', 'Colon')) -> Path:
    """Per-image layout: ``<fold>/images/<fold>_<i>.png``,
    ``<fold>/labels/<fold>_<i>.npz`` and ``<fold>/types.csv``
    (``tissues`` in turn). Returns ``root``."""
    root = Path(root)
    seed = 0
    for fold, num in folds.items():
        (root / fold / 'images').mkdir(parents=True, exist_ok=True)
        (root / fold / 'labels').mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(num):
            img, inst, types = make_tile(size, 8, num_classes, seed)
            seed += 1
            name = f'{fold}_{i}'
            cv2.imwrite(
                str(root / fold / 'images' / f'{name}.png'),
                img[..., ::-1].copy())
            np.savez_compressed(
                root / fold / 'labels' / f'{name}.npz',
                inst_map=inst,
                type_map=types)
            rows.append([f'{name}.png', tissues[i % len(tissues)]])
        with open(root / fold / 'types.csv', 'w', newline='') as f:
            writer = csv.writer(f, lineterminator='\n')
            writer.writerow(['img', 'type'])
            writer.writerows(rows)
    return root
