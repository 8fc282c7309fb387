# Copyright (c) mmpathseg contributors. All rights reserved.
"""Write text tables for the QaTa-COV19 copy that ProLearn distributes.

    python tools/dataset_converters/qata_prolearn.py data/QaTa-ProLearn

``ShuchangYe-bib/ProLearn`` (MIT) ships QaTa-COV19 resized to 224 x 224 with
LViT's sentences (lower-cased) and the 5716 / 1429 / 2113 split::

    ROOT/images/<id>.png   ROOT/masks/<id>.png   ROOT/reports/<id>.txt
    ROOT/split.json        {"train": [ids], "val": [ids], "test": [ids]}

This writes ``ROOT/{train,val,test}.csv`` (columns ``Image``,
``Description``), which ``TextSegDataset`` reads with
``data_prefix=dict(img_path='images', seg_map_path='masks')`` and
``mask_name='{stem}.png'``. A listed id without image, mask or report is an
error naming it; repeated ids (the lists hold a few) are written once.
"""
import argparse
import csv
import json
import os.path as osp
from typing import Dict, List


def convert(root: str) -> Dict[str, int]:
    """Write the three tables; returns the number of rows per split."""
    split_file = osp.join(root, 'split.json')
    if not osp.isfile(split_file):
        raise FileNotFoundError(f'{split_file} not found; point ROOT at the '
                                'folder holding split.json, images/, '
                                'masks/ and reports/.')
    with open(split_file) as f:
        splits = json.load(f)
    counts = {}
    for split in ('train', 'val', 'test'):
        if split not in splits:
            raise KeyError(f'{split_file} has no "{split}" list (keys: '
                           f'{sorted(splits)}).')
        rows: List[List[str]] = [['Image', 'Description']]
        seen = set()
        for sample_id in splits[split]:
            if sample_id in seen:
                continue
            seen.add(sample_id)
            paths = dict(
                image=osp.join(root, 'images', f'{sample_id}.png'),
                mask=osp.join(root, 'masks', f'{sample_id}.png'),
                report=osp.join(root, 'reports', f'{sample_id}.txt'))
            missing = [k for k, p in paths.items() if not osp.isfile(p)]
            if missing:
                raise FileNotFoundError(
                    f'{split_file} ({split}): {sample_id!r} has no '
                    f'{", ".join(missing)} ({paths[missing[0]]}).')
            with open(paths['report'], encoding='utf-8') as f:
                report = ' '.join(f.read().split())
            rows.append([f'{sample_id}.png', report])
        with open(osp.join(root, f'{split}.csv'), 'w', newline='') as f:
            csv.writer(f).writerows(rows)
        counts[split] = len(rows) - 1
    return counts


def main(argv=None) -> Dict[str, int]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='folder with split.json, images/, '
                        'masks/, reports/')
    args = parser.parse_args(argv)
    counts = convert(args.root)
    print(', '.join(f'{k}: {v} rows' for k, v in counts.items()))
    return counts


if __name__ == '__main__':
    main()
