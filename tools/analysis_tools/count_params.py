# Copyright (c) mmpathseg contributors. All rights reserved.
"""Count the total and trainable parameters of a config's model.

    python tools/analysis_tools/count_params.py CONFIG [CONFIG ...]
        [--cfg-options k=v ...] [--depth N]

The model is built on the meta device (no memory, no weights read), so full-
size models are counted in seconds. Freezing is applied as the model does it
at construction (e.g. CellVTA's frozen ViT), so "trainable" is what the
optimizer updates at the start of training.
"""
import argparse
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Count model parameters')
    parser.add_argument('configs', nargs='+', help='config file paths')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in every config, `key=value` pairs')
    parser.add_argument(
        '--depth',
        type=int,
        default=1,
        help='break the counts down by module name up to this depth '
        '(0: totals only)')
    return parser.parse_args(argv)


def _strip_pretrained(cfg) -> None:
    """Never read weights: counting does not need them."""
    if isinstance(cfg, dict):
        cfg.pop('pretrained', None)
        init_cfg = cfg.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            cfg.pop('init_cfg')
        for value in cfg.values():
            _strip_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _strip_pretrained(value)


def count_parameters(model: torch.nn.Module,
                     depth: int = 1) -> Tuple[int, int, Dict[str, Tuple]]:
    """Count parameters, shared tensors once.

    Args:
        model (nn.Module): The model.
        depth (int): Name depth of the breakdown (``backbone.vit`` is 2).

    Returns:
        tuple: ``(total, trainable, breakdown)`` where ``breakdown`` maps a
        module-name prefix to ``(total, trainable)``.
    """
    total = trainable = 0
    breakdown: Dict[str, List[int]] = OrderedDict()
    for name, param in model.named_parameters():  # deduplicated by torch
        numel = param.numel()
        total += numel
        trainable += numel if param.requires_grad else 0
        if depth > 0:
            prefix = '.'.join(name.split('.')[:depth])
            entry = breakdown.setdefault(prefix, [0, 0])
            entry[0] += numel
            entry[1] += numel if param.requires_grad else 0
    return total, trainable, {k: tuple(v) for k, v in breakdown.items()}


def build_on_meta(config: str, cfg_options=None) -> torch.nn.Module:
    """Build a config's model on the meta device."""
    from mmpathseg.registry import MODELS
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    _strip_pretrained(cfg.model)
    with torch.device('meta'):
        return MODELS.build(cfg.model)


def main(argv=None) -> List[Tuple[str, int, int]]:
    args = parse_args(argv)
    rows = []
    for config in args.configs:
        model = build_on_meta(config, args.cfg_options)
        total, trainable, breakdown = count_parameters(model, args.depth)
        rows.append((config, total, trainable))
        print(f'\n{config}')
        print('| module | total | trainable |')
        print('|---|---:|---:|')
        for prefix, (sub_total, sub_trainable) in breakdown.items():
            print(f'| {prefix} | {sub_total:,} | {sub_trainable:,} |')
        print(f'| **all** | **{total:,}** | **{trainable:,}** |')
    return rows


if __name__ == '__main__':
    main()
