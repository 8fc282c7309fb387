# Copyright (c) mmpathseg contributors. All rights reserved.
"""Make SyncSAM's 80/20 train/test split of the released SA-Med2D-20M.

    python tools/dataset_converters/samed2d_split.py data/SA-Med2D-16M
        [--index SAMed2D_v1.json] [--test-ratio 0.2] [--seed 0]
        [--check-files]

The release has no test split (its test part is not public), so SyncSAM
splits the released images 80/20 **per modality** (the file-name prefix
before the first ``_``: ``ct``, ``mr``, ``x``, ``pet``, ...) **at image
level** (slices of one CT case can fall on both sides, as in the
reference). Input: ``SAMed2D_v1.json`` ({image: [masks]}). Output, next to
it, in SAM-Med2D's formats read by ``SAMed2DDataset``:

* ``image2label_train.json``  {image: [masks]}
* ``label2image_test.json``   {mask: image}

The split is a seeded permutation per modality (not sklearn's, so it does
not reproduce the authors' exact lists; theirs were not released).
``--check-files`` drops entries whose image or masks are missing (the
reference's ``clear.py``) and reports how many.
"""
import argparse
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Tuple

import numpy as np


def modality(image_path: str) -> str:
    """``images/ct_00--AbdomenCT1K--...png`` -> ``ct``."""
    return osp.basename(image_path).split('_', 1)[0]


def split_index(index: Dict[str, List[str]], test_ratio: float = 0.2,
                seed: int = 0) -> Tuple[Dict, Dict]:
    """Per-modality seeded split. Returns ``(image2label_train,
    label2image_test)``."""
    groups: Dict[str, List[str]] = OrderedDict()
    for image in sorted(index):
        groups.setdefault(modality(image), []).append(image)
    train, test = OrderedDict(), OrderedDict()
    for offset, (_, images) in enumerate(sorted(groups.items())):
        rng = np.random.default_rng([seed, offset])
        order = rng.permutation(len(images))
        num_test = int(round(len(images) * test_ratio))
        test_ids = set(order[:num_test].tolist())
        for i, image in enumerate(images):
            if i in test_ids:
                for mask in index[image]:
                    test[mask] = image
            else:
                train[image] = list(index[image])
    return train, test


def drop_missing(index: Dict[str, List[str]],
                 root: str) -> Tuple[Dict[str, List[str]], int]:
    """Entries whose files exist (masks filtered, images without masks
    dropped) and the number of missing files."""
    out, missing = OrderedDict(), 0
    for image, masks in index.items():
        if not osp.isfile(osp.join(root, image)):
            missing += 1 + len(masks)
            continue
        kept = [m for m in masks if osp.isfile(osp.join(root, m))]
        missing += len(masks) - len(kept)
        if kept:
            out[image] = kept
    return out, missing


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='folder with images/, masks/, the index')
    parser.add_argument('--index', default='SAMed2D_v1.json')
    parser.add_argument('--test-ratio', type=float, default=0.2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--check-files', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> Tuple[int, int]:
    args = parse_args(argv)
    path = osp.join(args.root, args.index)
    if not osp.isfile(path):
        raise SystemExit(f'samed2d_split: {path} does not exist; pass the '
                         'release index with --index.')
    with open(path, encoding='utf-8') as f:
        index = json.load(f)
    if args.check_files:
        index, missing = drop_missing(index, args.root)
        print(f'dropped {missing} missing files')
    train, test = split_index(index, args.test_ratio, args.seed)
    for name, data in (('image2label_train.json', train),
                       ('label2image_test.json', test)):
        with open(osp.join(args.root, name), 'w', encoding='utf-8') as f:
            json.dump(data, f)
    print(f'{len(train)} training images, {len(test)} test masks')
    return len(train), len(test)


if __name__ == '__main__':
    main()
