# Copyright (c) mmpathseg contributors. All rights reserved.
"""Convert CellViT's pickled per-image labels to pickle-free ``.npz``.

    python tools/dataset_converters/cellvit_labels_to_npz.py PATH --trusted
        [--out DIR] [--num-classes C] [--overwrite]

CellViT (and HoVer-Net-style tools) store each label as ``labels/<name>.npy``
holding a *pickled* Python dict ``{'inst_map': (H, W), 'type_map': (H, W)}``.
Loading such a file unpickles it, and unpickling can run arbitrary code
written into the file. mmpathseg's datasets therefore never read them; this
script converts them once, and only when you pass ``--trusted`` to confirm
the files come from a source you trust (e.g. you made them yourself with
CellViT's ``prepare_pannuke.py``). Never run it on files from an unknown
origin.

PATH is a ``labels`` folder, or a dataset root searched for
``**/labels/*.npy``. Each ``<name>.npy`` becomes ``<name>.npz`` (written next
to it, or under ``--out`` keeping the relative layout) with
``inst_map`` (int32) and ``type_map`` (uint8), saved with
``np.savez_compressed``; the labels are checked on the way
(one type per instance, types exactly on instances, type ids within
``0..C`` with ``--num-classes``). The ``.npy`` files are left in place.
"""
import argparse
import glob
import os
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

# Runnable from a checkout without installing the package.
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpathseg.datasets.nuclei_validation import \
    check_nuclei_maps  # noqa: E402

REFUSAL = (
    'This converter unpickles CellViT .npy label files, and unpickling runs '
    'any code stored in the file. Only convert files you trust (that you '
    'made, or from a source you trust); then re-run with --trusted.')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert pickled CellViT .npy labels to .npz '
        '(UNPICKLES the inputs: trusted files only)')
    parser.add_argument(
        'path', help='a labels folder, or a root searched for labels/*.npy')
    parser.add_argument(
        '--trusted',
        action='store_true',
        help='confirm that the .npy files come from a trusted source')
    parser.add_argument(
        '--out',
        help='write the .npz files under this folder (same relative '
        'layout) instead of next to the .npy files')
    parser.add_argument(
        '--num-classes',
        type=int,
        default=None,
        help='number of nucleus classes C: refuse type ids above C')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace existing .npz files')
    return parser.parse_args(argv)


def find_label_files(path: str) -> List[str]:
    """The ``.npy`` files of a labels folder, or of every ``labels`` folder
    under a root."""
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path} is not a folder.')
    files = sorted(glob.glob(osp.join(path, '*.npy')))
    if not files:
        files = sorted(
            glob.glob(osp.join(path, '**', 'labels', '*.npy'), recursive=True))
    return files


def read_pickled_label(path: str) -> dict:
    """Unpickle one CellViT label file (trusted input only)."""
    content = np.load(path, allow_pickle=True)
    if isinstance(content, np.ndarray) and content.dtype == object and \
            content.ndim == 0:
        content = content.item()
    if not isinstance(content, dict) or not {'inst_map', 'type_map'
                                             } <= set(content):
        raise ValueError(
            f'{path}: expected a pickled dict with "inst_map" and '
            f'"type_map", got {type(content).__name__}' +
            (f' with keys {sorted(content)}' if isinstance(content, dict
                                                           ) else '') + '.')
    return content


def convert_file(path: str,
                 out_path: str,
                 num_classes: Optional[int] = None) -> int:
    """Convert one label file; return its number of instances."""
    content = read_pickled_label(path)
    inst_map, type_map = check_nuclei_maps(
        content['inst_map'],
        content['type_map'],
        path,
        num_classes=num_classes)
    os.makedirs(osp.dirname(out_path) or '.', exist_ok=True)
    np.savez_compressed(out_path, inst_map=inst_map, type_map=type_map)
    return int(np.unique(inst_map[inst_map > 0]).size)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.trusted:
        print(REFUSAL, file=sys.stderr)
        return 2
    files = find_label_files(args.path)
    if not files:
        print(
            f'No .npy label files in {args.path} (nor in '
            f'{osp.join(args.path, "**", "labels")}).',
            file=sys.stderr)
        return 1
    converted = skipped = nuclei = 0
    for path in files:
        rel = osp.relpath(path, args.path)
        target = osp.splitext(
            path if args.out is None else osp.join(args.out, rel))[0] + '.npz'
        if osp.exists(target) and not args.overwrite:
            skipped += 1
            continue
        nuclei += convert_file(path, target, args.num_classes)
        converted += 1
    print(f'Converted {converted} label file(s) ({nuclei} nuclei), skipped '
          f'{skipped} existing .npz (use --overwrite to replace).')
    return 0


if __name__ == '__main__':
    sys.exit(main())
