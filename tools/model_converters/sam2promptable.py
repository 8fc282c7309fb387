# Copyright (c) mmpathseg contributors. All rights reserved.
"""Convert official SAM, MedSAM or SAM-Med2D weights for PromptableSegmentor.

    python tools/model_converters/sam2promptable.py SRC DST
        [--img-size 1024] [--target sam|syncsam]

Sources (local files only, nothing is downloaded):

* SAM ``sam_vit_b_01ec64.pth`` and MedSAM ``medsam_vit_b.pth``: plain state
  dicts of ``Sam`` (``image_encoder.*``, ``prompt_encoder.*``,
  ``mask_decoder.*``);
* SAM-Med2D ``sam-med2d_b.pth`` and sam-unet / SyncSAM training files:
  ``{'model': state_dict, 'optimizer': <pickled torch Optimizer object>,
  ...}``. These are read by :func:`load_tensors_only`, an unpickler that
  builds tensors and plain containers only and turns **every other pickled
  object into an inert placeholder**, so no constructor, ``__reduce__`` or
  ``__setstate__`` of the file ever runs (the optimizer object is dropped).

Names: ``image_encoder.X`` becomes ``image_encoder.vit.X`` (our encoder wraps
a ``SAMViT``; SAM-Med2D's ``blocks.i.Adapter.*`` follow the same rule);
``prompt_encoder.*`` and ``mask_decoder.*`` keep SAM's names. ``--target
syncsam`` keeps of the decoder only what SyncSAM's Med-token decoder uses
(``transformer``, ``output_upscaling``).

``--img-size 256`` resamples the tables for a 16 x 16 token grid as SyncSAM's
and SAM-Med2D's loader (``load_from``) does: the absolute position embedding
bilinearly (align_corners False) and the relative-position tables of the
**global** blocks linearly (127 -> 31 entries); windowed blocks keep their
27-entry tables. Unlike that loader, SAM's own mask tokens, hypernetworks and
IoU head are kept (it silently re-initialises them).
"""
import argparse
import os.path as osp
import pickle
import sys
import types
from collections import OrderedDict
from typing import Dict

import torch
import torch.nn.functional as F

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpathseg.utils.checkpoint import ConversionError  # noqa: E402

# Globals a checkpoint of tensors needs; everything else becomes _Inert.
_TENSOR_GLOBALS = {
    ('collections', 'OrderedDict'),
    ('torch._utils', '_rebuild_tensor_v2'),
    ('torch._utils', '_rebuild_parameter'),
    ('torch', 'Size'),
}
_DTYPES = {
    'float16', 'float32', 'float64', 'bfloat16', 'int8', 'int16', 'int32',
    'int64', 'uint8', 'bool'
}
UNUSED_BY_SYNCSAM = ('mask_decoder.iou_token.', 'mask_decoder.mask_tokens.',
                     'mask_decoder.output_hypernetworks_mlps.',
                     'mask_decoder.iou_prediction_head.')


class _Inert(dict):
    """Stands in for any non-tensor object of a checkpoint; accepts and
    ignores whatever the pickle does with it."""

    def __init__(self, *args, **kwargs):  # noqa: D401 - ignore arguments
        super().__init__()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass


class TensorOnlyUnpickler(pickle.Unpickler):
    """Resolves only tensor-rebuilding globals; every other global (an
    optimizer class, ``os.system``, ...) resolves to :class:`_Inert`."""

    def find_class(self, module: str, name: str):
        if (module, name) in _TENSOR_GLOBALS or (module == 'torch'
                                                 and name in _DTYPES):
            return super().find_class(module, name)
        return _Inert


_TENSOR_ONLY_PICKLE = types.SimpleNamespace(
    __name__='tensor_only_pickle',
    Unpickler=TensorOnlyUnpickler,
    load=lambda f, **kw: TensorOnlyUnpickler(f, **kw).load())


def load_tensors_only(path: str) -> Dict[str, torch.Tensor]:
    """A flat ``name -> tensor`` dict from a checkpoint, unwrapping
    ``model`` / ``state_dict`` and a ``module.`` prefix, building no object
    but tensors and containers."""
    obj = torch.load(path, map_location='cpu', weights_only=False,
                     pickle_module=_TENSOR_ONLY_PICKLE)
    if isinstance(obj, dict):
        for key in ('model', 'state_dict'):
            if isinstance(obj.get(key), dict) and not isinstance(
                    obj[key], _Inert):
                obj = obj[key]
                break
    if not isinstance(obj, dict):
        raise ConversionError(f'{path}: no state dict found.')
    out = OrderedDict()
    for key, value in obj.items():
        if isinstance(value, torch.Tensor):
            out[key[len('module.'):] if key.startswith('module.') else
                key] = value
    if not out:
        raise ConversionError(f'{path}: no tensors found.')
    return out


def _global_blocks(state: Dict[str, torch.Tensor]):
    """Blocks whose relative-position tables span the whole grid."""
    lengths = {
        k: v.shape[0]
        for k, v in state.items() if k.endswith('attn.rel_pos_h')
    }
    longest = max(lengths.values())
    return {k.rsplit('.attn.', 1)[0] for k, n in lengths.items()
            if n == longest}


def resample_tables(state: Dict[str, torch.Tensor], img_size: int,
                    patch_size: int = 16) -> Dict[str, torch.Tensor]:
    """Resample ``image_encoder.pos_embed`` and the global blocks' tables
    for ``img_size`` (see the module docstring)."""
    grid = img_size // patch_size
    key = 'image_encoder.pos_embed'
    if key not in state:
        raise ConversionError('no image_encoder.pos_embed: not a SAM model.')
    pos = state[key]
    if pos.shape[1] != grid:
        state[key] = F.interpolate(
            pos.permute(0, 3, 1, 2).float(), size=(grid, grid),
            mode='bilinear', align_corners=False).permute(0, 2, 3,
                                                          1).to(pos.dtype)
    length = 2 * grid - 1
    for block in _global_blocks(state):
        for axis in ('h', 'w'):
            name = f'{block}.attn.rel_pos_{axis}'
            table = state[name]
            if table.shape[0] != length:
                state[name] = F.interpolate(
                    table.float().t()[None], size=length,
                    mode='linear').to(table.dtype)[0].t()
    return state


def convert(state: Dict[str, torch.Tensor], img_size: int = 1024,
            target: str = 'sam') -> 'OrderedDict[str, torch.Tensor]':
    """Official ``Sam`` names -> ``PromptableSegmentor`` names."""
    if target not in ('sam', 'syncsam'):
        raise ConversionError(f'unknown target {target!r}.')
    if not any(k.startswith('image_encoder.') for k in state):
        raise ConversionError(
            'no image_encoder.* keys: expected a whole SAM / MedSAM / '
            'SAM-Med2D model (for an encoder-only file use '
            'sam2mmpathseg.py).')
    state = resample_tables(dict(state), img_size)
    out = OrderedDict()
    for key, value in state.items():
        if target == 'syncsam' and key.startswith(UNUSED_BY_SYNCSAM):
            continue
        if key.startswith('image_encoder.'):
            key = 'image_encoder.vit.' + key[len('image_encoder.'):]
        elif not key.startswith(('prompt_encoder.', 'mask_decoder.')):
            raise ConversionError(f'unexpected key {key!r} outside SAM.')
        out[key] = value
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='SAM / MedSAM / SAM-Med2D -> PromptableSegmentor')
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument('--img-size', type=int, default=1024)
    parser.add_argument('--target', choices=['sam', 'syncsam'],
                        default='sam')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        out = convert(load_tensors_only(args.src), args.img_size,
                      args.target)
    except ConversionError as err:
        print(f'sam2promptable: {err}', file=sys.stderr)
        return 1
    torch.save(out, args.dst)
    print(f'{args.dst}: {len(out)} tensors for a {args.img_size} px '
          f'{args.target} model.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
