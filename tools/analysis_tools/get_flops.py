# Copyright (c) mmpathseg contributors. All rights reserved.
"""FLOPs and total / trainable parameters of a config's model.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H [W]]
        [--cfg-options k=v ...]

FLOPs are counted by mmengine's analyser (fvcore rules: one fused
multiply-add counts as one FLOP) for one image of ``--shape`` (default
the config's crop size, else 256) through the network in ``tensor`` mode:
backbone, neck and head, without the data preprocessor and the
post-processing. Operators the analyser has no rule for (e.g. the
deformable attention of CellVTA's adapter) are listed and not counted.
Parameters are counted as ``count_params.py`` counts them (frozen parts are
not trainable).
"""
import argparse
import os.path as osp
import sys
from typing import Dict

import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmpathseg.apis import init_model  # noqa: E402
from tools.analysis_tools.count_params import count_parameters  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Count FLOPs and params')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='input image size H [W]')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, `key=value` pairs')
    return parser.parse_args(argv)


def _default_shape(cfg: Config):
    crop = cfg.get('crop_size')
    if crop:
        return tuple(crop)
    return (256, 256)


def sdpa_flop_jit(inputs, outputs) -> int:
    """FLOPs (multiply-adds) of ``aten::scaled_dot_product_attention``:
    ``Q K^T`` and ``A V``, i.e. ``2 * B * heads * L * S * D`` for queries
    ``(B, heads, L, D)`` and keys ``(B, heads, S, D)`` (softmax and scaling
    not counted, as the analyser's other rules)."""
    from mmengine.analysis.jit_handles import get_shape
    query, key = get_shape(inputs[0]), get_shape(inputs[1])
    *batch, length, dim = query
    source = key[-2]
    value_dim = get_shape(inputs[2])[-1]
    prod = 1
    for b in batch:
        prod *= b
    return prod * length * source * (dim + value_dim)


class _TensorForward(torch.nn.Module):
    """The model in ``mode='tensor'`` with one positional input, as the
    analyser calls it."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, None, mode='tensor')


def get_flops(config, shape=None, cfg_options=None) -> Dict:
    """FLOPs and parameters of ``config``'s model for one ``shape`` image.

    Returns:
        dict: ``shape``, ``flops``, ``params``, ``trainable_params``,
        ``unsupported`` ({operator: count}) and ``table`` (str).
    """
    from mmengine.analysis import FlopAnalyzer
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if shape is None:
        shape = _default_shape(cfg)
    elif len(shape) == 1:
        shape = (shape[0], shape[0])
    model = init_model(cfg)
    total, trainable, _ = count_parameters(model, depth=0)
    inputs = torch.zeros(1, 3, *shape)
    analyzer = FlopAnalyzer(_TensorForward(model), (inputs, ))
    analyzer.set_op_handle('aten::scaled_dot_product_attention',
                           sdpa_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    flops = analyzer.total()
    by_module = analyzer.by_module()
    rows = ['| module | FLOPs |', '|---|---:|']
    for name, value in by_module.items():
        # children of the wrapper: model.backbone, model.decode_head, ...
        if name.count('.') == 1 and value:
            rows.append(f'| {name[len("model."):]} | {value:,} |')
    return dict(
        shape=tuple(shape),
        flops=int(flops),
        params=total,
        trainable_params=trainable,
        unsupported=dict(analyzer.unsupported_ops()),
        table='\n'.join(rows))


def _human(value: float) -> str:
    for unit in ('', 'K', 'M', 'G', 'T'):
        if abs(value) < 1000:
            return f'{value:.2f} {unit}'.rstrip()
        value /= 1000
    return f'{value:.2f} P'


def main(argv=None) -> Dict:
    args = parse_args(argv)
    res = get_flops(args.config, args.shape, args.cfg_options)
    print(res['table'])
    line = '=' * 40
    print(f'{line}\nInput shape: (3, {res["shape"][0]}, {res["shape"][1]})\n'
          f'FLOPs: {_human(res["flops"])}FLOPs ({res["flops"]:,})\n'
          f'Params: {res["params"]:,} (trainable {res["trainable_params"]:,})'
          f'\n{line}')
    if res['unsupported']:
        print('Not counted (no FLOP rule): ' + ', '.join(
            f'{k} x{v}' for k, v in sorted(res['unsupported'].items())))
    return res


if __name__ == '__main__':
    main()
