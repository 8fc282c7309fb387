# Copyright (c) mmpathseg contributors. All rights reserved.
"""Export PanNuke from its release layout to the per-image layout
(CellViT's, with pickle-free ``.npz`` labels).

    python tools/dataset_converters/pannuke_to_cellvit.py DATA_ROOT OUT
        [--folds 0 1 2] [--cellvit-merge]

DATA_ROOT is the release layout read by ``PanNukeDataset`` (``Fold 1/images/
fold1/images.npy`` ...). OUT gets::

    dataset_config.yaml          nuclei_types {Background: 0, Neoplastic: 1,
                                 ...}, tissue_types {Adrenal_gland: 0, ...}
    fold{k}/images/{k}_{i}.png   RGB tiles (k is the 0-based fold)
    fold{k}/labels/{k}_{i}.npz   inst_map int32, type_map uint8
    fold{k}/types.csv            img,type
    fold{k}/cell_count.csv       Image,Neoplastic,Inflammatory,...

which ``NucleiFolderDataset(folds=['fold0'])`` reads. Tiles go through
``PanNukeDataset``'s own loaders, so the same checks apply: inconsistent
tiles are refused unless ``--cellvit-merge`` (CellViT's renumbering, the
last type wins on overlaps).
"""
import argparse
import csv
import os
import os.path as osp
import sys

import cv2
import numpy as np

# Runnable from a checkout without installing the package.
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpathseg.datasets import (
    NUCLEI_TYPES,  # noqa: E402
    PANNUKE_TISSUE_TYPES,
    PanNukeDataset)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='PanNuke release layout -> per-image layout')
    parser.add_argument('data_root', help='folder holding "Fold 1", ...')
    parser.add_argument('out', help='output folder')
    parser.add_argument(
        '--folds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='0-based folds to export')
    parser.add_argument(
        '--cellvit-merge',
        action='store_true',
        help='renumber type channels as CellViT does instead of refusing '
        'inconsistent tiles')
    return parser.parse_args(argv)


def write_dataset_config(out: str) -> None:
    lines = ['nuclei_types:', '  Background: 0']
    lines += [f'  {name}: {i + 1}' for i, name in enumerate(NUCLEI_TYPES)]
    lines += ['tissue_types:']
    lines += [f'  {name}: {i}' for i, name in enumerate(PANNUKE_TISSUE_TYPES)]
    with open(osp.join(out, 'dataset_config.yaml'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def export_fold(data_root: str, fold: int, out: str, strict: bool) -> int:
    dataset = PanNukeDataset(
        data_root=data_root,
        folds=[fold],
        pipeline=[
            dict(type='LoadImageFromNpy', channel_order='bgr'),
            dict(type='LoadPanNukeAnnotations', strict=strict),
        ])
    folder = osp.join(out, f'fold{fold}')
    for sub in ('images', 'labels'):
        os.makedirs(osp.join(folder, sub), exist_ok=True)
    types_rows, count_rows = [], []
    for i in range(len(dataset)):
        results = dataset[i]
        name = f'{fold}_{results["img_index"]}'
        cv2.imwrite(osp.join(folder, 'images', f'{name}.png'), results['img'])
        inst, types = results['gt_inst_map'], results['gt_seg_map']
        np.savez_compressed(
            osp.join(folder, 'labels', f'{name}.npz'),
            inst_map=inst.astype(np.int32),
            type_map=types.astype(np.uint8))
        types_rows.append([f'{name}.png', results['tissue']])
        fg = inst > 0
        pairs = np.unique(np.stack([inst[fg], types[fg]], 1), axis=0)
        counts = np.bincount(
            pairs[:, 1].astype(np.int64), minlength=len(NUCLEI_TYPES) + 1)
        count_rows.append([f'{name}.png'] + counts[1:].tolist())
    with open(osp.join(folder, 'types.csv'), 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['img', 'type'])
        writer.writerows(types_rows)
    with open(osp.join(folder, 'cell_count.csv'), 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['Image'] + list(NUCLEI_TYPES))
        writer.writerows(count_rows)
    return len(dataset)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.registry import init_default_scope
    init_default_scope('mmpathseg')
    os.makedirs(args.out, exist_ok=True)
    write_dataset_config(args.out)
    for fold in args.folds:
        num = export_fold(args.data_root, fold, args.out,
                          not args.cellvit_merge)
        print(
            f'fold{fold}: {num} tiles -> {osp.join(args.out, f"fold{fold}")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
