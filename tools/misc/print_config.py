# Copyright (c) mmpathseg contributors. All rights reserved.
"""Print the fully merged config, e.g. to see what `_base_` files resolve to.

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...]
"""
import argparse

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, `key=value` pairs')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    print(cfg.pretty_text)


if __name__ == '__main__':
    main()
