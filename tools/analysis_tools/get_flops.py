# Copyright (c) mmpathseg contributors. All rights reserved.
"""FLOPs and total / trainable parameters of a config's model.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H [W]]
        [--from-data [--split test]] [--cfg-options k=v ...]

FLOPs are counted by mmengine's analyser (fvcore rules: one fused
multiply-add counts as one FLOP) for one image of ``--shape`` (default
the config's crop size, else 256) through the network in ``tensor`` mode:
backbone, neck and head, without the data preprocessor and the
post-processing. Models whose ``tensor`` mode needs more than an image
(``tensor_mode_needs_samples``: prompts, a report, a tokenised expression)
are measured on the first sample of the config's ``--split`` dataset
instead (``--from-data`` does that for any model): its packed inputs after
the data preprocessor, at the size the pipeline gives. Operators the analyser has no rule for (e.g. the
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
        '--from-data', action='store_true',
        help='measure on the first sample of the --split dataset (always '
        'for models whose tensor mode needs prompts or text)')
    parser.add_argument('--split', default='test',
                        choices=['train', 'val', 'test'])
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


class _SampleForward(torch.nn.Module):
    """The model in ``mode='tensor'`` on one preprocessed batch: the
    analyser traces tensors only, so the batch's tensors are the positional
    inputs and its data samples are held here."""

    def __init__(self, model: torch.nn.Module, keys, data_samples) -> None:
        super().__init__()
        self.model = model
        self.keys = keys
        self.data_samples = data_samples

    def forward(self, *tensors):
        inputs = tensors[0] if self.keys is None else dict(
            zip(self.keys, tensors))
        return self.model(inputs, self.data_samples, mode='tensor')


def _first_batch(cfg: Config, model: torch.nn.Module, split: str) -> tuple:
    """``(analysed module, tensor inputs, shape)`` for the first sample of
    the ``split`` dataset, through the model's data preprocessor."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    from mmpathseg.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    loader = cfg.get(f'{split}_dataloader')
    if not loader:
        raise ValueError(f'{cfg.filename}: no {split}_dataloader to take a '
                         'sample from; pick another --split.')
    try:
        dataset = DATASETS.build(loader.dataset)
        sample = dataset[0]
    except (FileNotFoundError, IndexError) as err:
        raise FileNotFoundError(
            f'{cfg.filename}: the FLOPs of this model are measured on a real '
            f'sample, but the {split} data could not be read ({err}). '
            'Generate or link the data, or set --split.') from err
    batch = model.data_preprocessor(pseudo_collate([sample]), False)
    inputs, data_samples = batch['inputs'], batch['data_samples']
    if isinstance(inputs, dict):
        keys = [k for k, v in inputs.items() if torch.is_tensor(v)]
        tensors = tuple(inputs[k] for k in keys)
        image = inputs.get('image', tensors[0])
    else:
        keys, tensors, image = None, (inputs, ), inputs
    shape = tuple(image.shape[-2:])
    return _SampleForward(model, keys, data_samples), tensors, shape


def get_flops(config,
              shape=None,
              cfg_options=None,
              from_data: bool = False,
              split: str = 'test') -> Dict:
    """FLOPs and parameters of ``config``'s model for one ``shape`` image,
    or for the first ``split`` sample (``from_data``, and always for models
    with ``tensor_mode_needs_samples``).

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
    if from_data or getattr(model, 'tensor_mode_needs_samples', False):
        wrapper, inputs, shape = _first_batch(cfg, model, split)
    else:
        wrapper, inputs = _TensorForward(model), (torch.zeros(1, 3, *shape), )
    analyzer = FlopAnalyzer(wrapper, inputs)
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
    res = get_flops(args.config, args.shape, args.cfg_options,
                    args.from_data, args.split)
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
