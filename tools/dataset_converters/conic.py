# Copyright (c) mmpathseg contributors. All rights reserved.
"""Check a CoNIC release, write its source-image level split, and
optionally export it to the per-image layout.

    python tools/dataset_converters/conic.py DATA_ROOT [--seed 0]
        [--test-ratio 0.2] [--val-ratio 0.2] [--split-file splits.csv]
        [--check] [--per-image-out DIR]

DATA_ROOT holds the challenge files ``images.npy``, ``labels.npy``,
``patch_info.csv`` (and ``counts.csv``). The script

1. checks the files against each other (shapes, row counts, names);
2. computes the split of ``CoNICDataset`` (every source image in one of
   train/val/test, see ``mmpathseg/datasets/conic_split.py``) and writes it
   to ``DATA_ROOT/splits.csv`` (``patch_info,source,split``), printing the
   number of source images and patches per split and cohort. Configs read it
   with ``split_file='splits.csv'``; without it they compute the same split;
   edit or replace the file to fix another split;
3. with ``--check``, validates every patch's labels (one class per instance,
   classes only on instances, ids 0..6) and compares ``counts.csv`` with the
   nuclei counted in the central 224 x 224 window of ``labels.npy``; exits
   with 1 if a label is invalid;
4. with ``--per-image-out DIR``, writes ``DIR/<split>/images/<patch>.png``,
   ``DIR/<split>/labels/<patch>.npz`` (``inst_map`` int32, ``type_map``
   uint8), ``DIR/<split>/types.csv`` and ``DIR/label_map.yaml`` — the layout
   of ``NucleiFolderDataset`` (CellViT's, without pickles).

Nothing is unpickled: the ``.npy`` files are read with ``allow_pickle=False``.
"""
import argparse
import csv
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List, Optional

import cv2
import numpy as np

# Runnable from a checkout without installing the package.
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpathseg.datasets.conic import (
    CONIC_CLASSES,  # noqa: E402
    check_conic_release)
from mmpathseg.datasets.conic_split import (
    CONIC_SPLITS,  # noqa: E402
    conic_cohort,
    conic_source,
    read_split_file,
    source_level_split,
    write_split_file)
from mmpathseg.datasets.nuclei_validation import \
    check_nuclei_maps  # noqa: E402

# counts.csv counts the nuclei in the central 224 x 224 of 256 px tiles.
COUNT_FRACTION = 224 / 256


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check CoNIC, write its source-level split, export it')
    parser.add_argument('data_root', help='folder of images.npy, ...')
    parser.add_argument('--seed', type=int, default=0, help='split seed')
    parser.add_argument('--test-ratio', type=float, default=0.2)
    parser.add_argument('--val-ratio', type=float, default=0.2)
    parser.add_argument(
        '--split-file',
        default='splits.csv',
        help='split CSV to write, relative to data_root')
    parser.add_argument(
        '--use-split-file',
        action='store_true',
        help='read the existing split file instead of computing one')
    parser.add_argument(
        '--check',
        action='store_true',
        help='validate every label and compare counts.csv')
    parser.add_argument(
        '--per-image-out',
        help='export to the per-image layout (NucleiFolderDataset) here')
    return parser.parse_args(argv)


def split_summary(names: List[str], splits: List[str]) -> str:
    """A table of source images and patches per split and cohort."""
    sources = [conic_source(n) for n in names]
    cohorts = sorted({conic_cohort(s) for s in sources})
    lines = [
        f'{"split":<6} {"sources":>7} {"patches":>7}  ' +
        ' '.join(f'{c:>8}' for c in cohorts)
    ]
    for split in CONIC_SPLITS:
        rows = [i for i, s in enumerate(splits) if s == split]
        per_cohort = Counter(conic_cohort(sources[i]) for i in rows)
        lines.append(f'{split:<6} {len({sources[i] for i in rows}):>7} '
                     f'{len(rows):>7}  ' + ' '.join(f'{per_cohort[c]:>8}'
                                                    for c in cohorts))
    return '\n'.join(lines)


def central_counts(inst: np.ndarray, types: np.ndarray) -> np.ndarray:
    """Nuclei per class with any pixel in the central window (CoNIC's
    counting rule: 224 x 224 of a 256 px tile)."""
    height, width = inst.shape
    window = int(round(COUNT_FRACTION * min(height, width)))
    y0, x0 = (height - window) // 2, (width - window) // 2
    inst_c = inst[y0:y0 + window, x0:x0 + window]
    types_c = types[y0:y0 + window, x0:x0 + window]
    fg = inst_c > 0
    pairs = np.unique(
        np.stack([inst_c[fg], types_c[fg]], 1).astype(np.int64), axis=0)
    return np.bincount(
        pairs[:, 1], minlength=len(CONIC_CLASSES) + 1)[1:].astype(np.int64)


def check_labels(release: dict) -> Dict[str, int]:
    """Validate every patch; compare counts.csv. Returns tallies."""
    labels = np.load(
        release['paths']['labels'], mmap_mode='r', allow_pickle=False)
    counts = release['counts']
    invalid = mismatched = 0
    for index in range(labels.shape[0]):
        row = np.asarray(labels[index])
        where = f'{release["paths"]["labels"]}[{index}] ' \
            f'({release["names"][index]})'
        try:
            inst, types = check_nuclei_maps(
                row[..., 0],
                row[..., 1],
                where,
                num_classes=len(CONIC_CLASSES))
        except ValueError as err:
            invalid += 1
            print(f'INVALID {err}')
            continue
        if counts is not None and not np.array_equal(
                central_counts(inst, types), counts[index]):
            mismatched += 1
    return dict(invalid=invalid, count_mismatch=mismatched)


def export_per_image(release: dict, splits: List[str], out: str) -> None:
    """Write the per-image layout of NucleiFolderDataset."""
    images = np.load(
        release['paths']['images'], mmap_mode='r', allow_pickle=False)
    labels = np.load(
        release['paths']['labels'], mmap_mode='r', allow_pickle=False)
    os.makedirs(out, exist_ok=True)
    with open(osp.join(out, 'label_map.yaml'), 'w') as f:
        for ident, name in enumerate(('background', ) + CONIC_CLASSES):
            f.write(f'{ident}: {name}\n')
    tables: Dict[str, List[List[str]]] = {s: [] for s in CONIC_SPLITS}
    for index, (name, split) in enumerate(zip(release['names'], splits)):
        folder = osp.join(out, split)
        os.makedirs(osp.join(folder, 'images'), exist_ok=True)
        os.makedirs(osp.join(folder, 'labels'), exist_ok=True)
        img = np.asarray(images[index])
        if img.dtype != np.uint8:
            img = np.rint(img).astype(np.uint8)
        cv2.imwrite(
            osp.join(folder, 'images', f'{name}.png'),
            np.ascontiguousarray(img[..., ::-1]))
        row = np.asarray(labels[index])
        inst, types = check_nuclei_maps(
            row[..., 0],
            row[..., 1],
            f'{release["paths"]["labels"]}[{index}]',
            num_classes=len(CONIC_CLASSES))
        np.savez_compressed(
            osp.join(folder, 'labels', f'{name}.npz'),
            inst_map=inst,
            type_map=types)
        tables[split].append([f'{name}.png', 'Colon'])
    for split, rows in tables.items():
        if not rows:
            continue
        with open(osp.join(out, split, 'types.csv'), 'w', newline='') as f:
            writer = csv.writer(f, lineterminator='\n')
            writer.writerow(['img', 'type'])
            writer.writerows(rows)


def main(argv=None) -> Optional[int]:
    args = parse_args(argv)
    release = check_conic_release(args.data_root)
    names = release['names']
    n, height, width = release['shape']
    print(
        f'{args.data_root}: {n} patches of {height} x {width}; '
        f'counts.csv {"found" if release["counts"] is not None else "absent"}'
        '.')
    split_path = args.split_file if osp.isabs(args.split_file) else \
        osp.join(args.data_root, args.split_file)
    if args.use_split_file:
        splits = read_split_file(split_path, names)
        print(f'Read the split from {split_path}.')
    else:
        splits = source_level_split(
            names,
            test_ratio=args.test_ratio,
            val_ratio=args.val_ratio,
            seed=args.seed)
        write_split_file(split_path, names, splits)
        print(f'Wrote the source-level split (seed {args.seed}, test '
              f'{args.test_ratio}, val {args.val_ratio} of the rest) to '
              f'{split_path}.')
    print(split_summary(names, splits))
    status = 0
    if args.check:
        tally = check_labels(release)
        window = int(round(COUNT_FRACTION * min(height, width)))
        print(f'Labels: {n - tally["invalid"]}/{n} valid; counts.csv differs '
              f'from the nuclei in the central {window} px of labels.npy on '
              f'{tally["count_mismatch"]} patch(es).')
        status = 1 if tally['invalid'] else 0
    if args.per_image_out:
        export_per_image(release, splits, args.per_image_out)
        print(f'Wrote the per-image layout to {args.per_image_out}.')
    return status


if __name__ == '__main__':
    sys.exit(main())
