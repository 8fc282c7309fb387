# Copyright (c) mmpathseg contributors. All rights reserved.
"""Source-image ("patient") level train/val/test splits of CoNIC.

CoNIC patches are named ``<source>-<patch>`` in ``patch_info.csv`` (e.g.
``consep_1-0000``): the part before the last ``-`` is the Lizard source
image, the part before its first ``_`` the cohort (consep, crag, dpath, glas,
pannuke). Patches of one source image overlap in content and staining, so a
split that puts them on both sides leaks; every split here keeps each source
image in exactly one of train, val and test.

The rule of :func:`source_level_split` (deterministic, no random generator,
so it does not change across numpy versions or platforms):

1. per cohort (``stratify=True``; else all sources form one group), order
   the source images by ``sha256(f'{seed}:test:{source}')``; the first
   ``round(test_ratio * n)`` go to test (halves round up);
2. order the remaining ones by ``sha256(f'{seed}:val:{source}')``; the first
   ``round(val_ratio * n_rest)`` go to val, the others to train.

Ratios count source images, not patches (sources have different patch
counts), as HoVer-Net's CoNIC split does; the patch fractions come out near
the ratios on the full data set. A split file (CSV with columns
``patch_info`` and ``split``, written by
``tools/dataset_converters/conic.py``) fixes a split explicitly, e.g. to
reuse one from another code base.
"""
import csv
import hashlib
import math
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Sequence

__all__ = [
    'CONIC_SPLITS', 'conic_source', 'conic_cohort', 'source_level_split',
    'read_split_file', 'write_split_file', 'check_source_leak'
]

CONIC_SPLITS = ('train', 'val', 'test')


def conic_source(patch_name: str) -> str:
    """Source image of a patch name: the part before the last ``-``."""
    source, sep, patch = str(patch_name).rpartition('-')
    if not sep or not source or not patch:
        raise ValueError(
            f'CoNIC patch name {patch_name!r} is not "<source image>-<patch '
            'index>" (e.g. "consep_1-0000"); the source image is needed for '
            'a source-level split.')
    return source


def conic_cohort(source: str) -> str:
    """Cohort of a source image: the part before its first ``_``."""
    return str(source).split('_', 1)[0]


def _order(sources: Sequence[str], seed: int, stage: str) -> List[str]:
    return sorted(
        sources,
        key=lambda s:
        (hashlib.sha256(f'{seed}:{stage}:{s}'.encode()).hexdigest(), s))


def _round(value: float) -> int:
    return int(math.floor(value + 0.5))


def source_level_split(patch_names: Sequence[str],
                       test_ratio: float = 0.2,
                       val_ratio: float = 0.2,
                       seed: int = 0,
                       stratify: bool = True) -> List[str]:
    """Assign every patch to ``'train'``, ``'val'`` or ``'test'`` by its
    source image (see the module docstring for the rule).

    Args:
        patch_names (Sequence[str]): ``patch_info`` names, one per patch.
        test_ratio (float): Fraction of source images held out for test.
            Defaults to 0.2.
        val_ratio (float): Fraction of the remaining (non-test) source
            images held out for validation. Defaults to 0.2.
        seed (int): Changes the order of the sources. Defaults to 0.
        stratify (bool): Split each cohort on its own. Defaults to True.

    Returns:
        list[str]: The split of each patch, in the order given.
    """
    for name, ratio in (('test_ratio', test_ratio), ('val_ratio', val_ratio)):
        if not 0 <= ratio < 1:
            raise ValueError(f'{name} must be in [0, 1), got {ratio!r}.')
    sources = [conic_source(n) for n in patch_names]
    groups: Dict[str, List[str]] = OrderedDict()
    for source in dict.fromkeys(sources):
        key = conic_cohort(source) if stratify else ''
        groups.setdefault(key, []).append(source)
    split_of: Dict[str, str] = {}
    for group in groups.values():
        ordered = _order(group, seed, 'test')
        num_test = _round(test_ratio * len(ordered))
        rest = _order(ordered[num_test:], seed, 'val')
        num_val = _round(val_ratio * len(rest))
        split_of.update({s: 'test' for s in ordered[:num_test]})
        split_of.update({s: 'val' for s in rest[:num_val]})
        split_of.update({s: 'train' for s in rest[num_val:]})
    return [split_of[s] for s in sources]


def check_source_leak(patch_names: Sequence[str], splits: Sequence[str],
                      where: str) -> None:
    """Raise when a source image has patches in two splits."""
    first: Dict[str, tuple] = {}
    for name, split in zip(patch_names, splits):
        source = conic_source(name)
        seen = first.setdefault(source, (split, name))
        if seen[0] != split:
            raise ValueError(
                f'{where}: source image {source!r} is in two splits: '
                f'{seen[1]!r} in {seen[0]!r} and {name!r} in {split!r}. '
                'Patches of one source image must stay in one split (they '
                'share content and staining).')


def read_split_file(path: str, patch_names: Sequence[str]) -> List[str]:
    """Read a split CSV (columns ``patch_info`` and ``split``; others are
    ignored) and return the split of every patch of ``patch_names``.

    Every patch needs exactly one row, splits must be train/val/test and no
    source image may be in two splits.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'CoNIC split file {path} does not exist. Write one with `python '
            'tools/dataset_converters/conic.py <data_root>`, or leave '
            '`split_file=None` to compute the split.')
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        if 'patch_info' not in columns or 'split' not in columns:
            raise ValueError(f'{path}: needs the columns "patch_info" and '
                             f'"split", found {columns}.')
        split_of: Dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            name, split = row['patch_info'].strip(), row['split'].strip()
            if split not in CONIC_SPLITS:
                raise ValueError(
                    f'{path}, line {line}: split {split!r} of {name!r} is '
                    f'not one of {list(CONIC_SPLITS)}.')
            if split_of.setdefault(name, split) != split:
                raise ValueError(f'{path}, line {line}: {name!r} is listed '
                                 'twice with different splits.')
    missing = [n for n in patch_names if n not in split_of]
    if missing:
        raise ValueError(
            f'{path}: {len(missing)} patch(es) of patch_info.csv have no '
            f'split, e.g. {missing[0]!r}. The split file must list every '
            'patch.')
    splits = [split_of[n] for n in patch_names]
    check_source_leak(patch_names, splits, path)
    return splits


def write_split_file(path: str, patch_names: Sequence[str],
                     splits: Sequence[str]) -> None:
    """Write a split CSV: ``patch_info,source,split``, one row per patch."""
    if len(patch_names) != len(splits):
        raise ValueError(f'{len(patch_names)} patch names but '
                         f'{len(splits)} splits.')
    check_source_leak(patch_names, splits, path)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f, lineterminator='\n')
        writer.writerow(['patch_info', 'source', 'split'])
        for name, split in zip(patch_names, splits):
            writer.writerow([name, conic_source(name), split])
