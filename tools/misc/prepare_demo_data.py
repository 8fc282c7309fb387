# Copyright (c) mmpathseg contributors. All rights reserved.
"""Generate the demo data a config reads, if it is not there yet.

    python tools/misc/prepare_demo_data.py CONFIG [--cfg-options k=v ...]

Reads the ``data_root`` of the config's train / val / test datasets and,
for each one that is a generated demo dataset (``data/pannuke_demo``,
``data/ct_demo``, ``data/xray_demo``, ``data/tissue_ref_demo``,
``data/tissue_ref_demo_256``), runs its generator unless the generator's
info file (written last) is already there. Any other data root is only
checked to exist: real datasets are prepared as ``data/README.md`` says.
Used by ``tools/run_demo.sh``.
"""
import argparse
import importlib
import json
import os.path as osp
import sys
from typing import Dict, List, NamedTuple, Tuple

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


class DemoGenerator(NamedTuple):
    """How one demo dataset is made: ``module.main(['--out', root] +
    args)``; ``info`` is the JSON file the generator writes last, and
    ``expect`` maps dotted keys of it to the values these args give (an
    older dataset generated with other settings is refused)."""
    module: str
    args: Tuple[str, ...]
    info: str
    expect: Tuple[Tuple[str, object], ...] = ()


# Keyed by the data root's folder name.
DEMO_GENERATORS: Dict[str, DemoGenerator] = {
    'pannuke_demo':
    DemoGenerator('tools.misc.generate_demo_data', (), 'demo_info.json'),
    'ct_demo':
    DemoGenerator('tools.misc.generate_ct_demo_data', (), 'demo_info.json'),
    'xray_demo':
    DemoGenerator('tools.misc.generate_xray_demo_data', (),
                  'demo_info.json'),
    'tissue_ref_demo':
    DemoGenerator('tools.misc.generate_tissue_ref_demo_data', (),
                  'info.json'),
    # The referring demos: 256 training and 64 validation tiles (the first
    # 64 / 16 are those of tissue_ref_demo).
    'tissue_ref_demo_256':
    DemoGenerator('tools.misc.generate_tissue_ref_demo_data',
                  ('--num-train', '256', '--num-val', '64'), 'info.json',
                  (('counts.train.images', 256), ('counts.val.images', 64))),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the demo data of a config')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, `key=value` pairs')
    return parser.parse_args(argv)


def data_roots(cfg: Config) -> List[str]:
    """The distinct ``data_root`` of the config's datasets, in train, val,
    test order."""
    roots: List[str] = []
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        root = loader.get('dataset', {}).get('data_root') if loader else None
        if root and root not in roots:
            roots.append(root)
    return roots


def check_settings(info_path: str, expect) -> None:
    """Refuse a demo dataset generated with other settings."""
    with open(info_path) as f:
        info = json.load(f)
    for key, value in expect:
        found = info
        for part in key.split('.'):
            found = found.get(part) if isinstance(found, dict) else None
        if found != value:
            raise ValueError(
                f'{info_path}: {key} is {found!r}, this config expects '
                f'{value!r} (the dataset was generated with other settings); '
                f'delete {osp.dirname(info_path)} and run again to '
                'regenerate it.')


def prepare(root: str) -> str:
    """Generate ``root`` if it is a demo dataset that is missing; returns
    what was done (``generated`` / ``reused`` / ``present``)."""
    generator = DEMO_GENERATORS.get(osp.basename(osp.normpath(root)))
    if generator is None:
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'{root} does not exist and is not a generated demo dataset '
                f'({", ".join(sorted(DEMO_GENERATORS))}); prepare it as '
                'data/README.md describes.')
        return 'present'
    info_path = osp.join(root, generator.info)
    if osp.isfile(info_path):
        check_settings(info_path, generator.expect)
        return 'reused'
    module = importlib.import_module(generator.module)
    module.main(['--out', root] + list(generator.args))
    if not osp.isfile(osp.join(root, generator.info)):
        raise RuntimeError(f'{generator.module} did not write '
                           f'{osp.join(root, generator.info)}.')
    return 'generated'


def main(argv=None) -> Dict[str, str]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    done = {}
    for root in data_roots(cfg):
        done[root] = prepare(root)
        print(f'{root}: {done[root]}')
    return done


if __name__ == '__main__':
    main()
