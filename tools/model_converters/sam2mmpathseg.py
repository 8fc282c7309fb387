# Copyright (c) mmpathseg contributors. All rights reserved.
"""Convert an official SAM checkpoint into an mmpathseg ``SAMViT`` checkpoint.

    python tools/model_converters/sam2mmpathseg.py \\
        /path/to/sam_vit_h_4b8939.pth checkpoints/sam_vit-h_encoder.pth

Official SAM checkpoints (``sam_vit_{b,l,h}_*.pth``) are plain state dicts
of the whole ``Sam`` model: ``image_encoder.*``, ``prompt_encoder.*``,
``mask_decoder.*``. ``SAMViT`` adopts SAM's own image-encoder modules, so
the conversion keeps the ``image_encoder.*`` entries with the prefix removed
(a file that already holds only the image encoder is accepted as is) and
saves them as a plain tensor dict that mmpathseg's weights-only loader
accepts. The input is read with ``torch.load(weights_only=True)``; anything
but a dict of tensors is refused. The tables stay at their 1024-pixel sizes
(64 x 64 position embedding, 127-entry global relative positions): SAMViT
crops / resamples them at run time, as CellViT does at 256 pixels.

``--no-neck`` drops the neck (for ``SAMViT(with_neck=False)``).
Local paths only: nothing is downloaded.
"""
import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict

import torch

# Runnable from a checkout without installing the package.
sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpathseg.utils.checkpoint import (  # noqa: E402
    ConversionError, load_tensor_state_dict)

ENCODER_KEYS = re.compile(
    r'^(patch_embed\.proj\.(weight|bias)|pos_embed|'
    r'blocks\.\d+\.(norm1|norm2)\.(weight|bias)|'
    r'blocks\.\d+\.attn\.(qkv|proj)\.(weight|bias)|'
    r'blocks\.\d+\.attn\.rel_pos_[hw]|'
    r'blocks\.\d+\.mlp\.(lin1|lin2)\.(weight|bias)|'
    r'neck\.[0-3]\.(weight|bias))$')
PREFIX = 'image_encoder.'
OTHER_SAM_PARTS = ('prompt_encoder.', 'mask_decoder.')


def load_tensor_dict(path: str) -> Dict[str, torch.Tensor]:
    """Load ``path`` weights-only as a flat ``name -> tensor`` dict."""
    return load_tensor_state_dict(
        path, 'Official SAM checkpoints are plain state dicts.')


def convert_sam(state_dict: Dict[str, torch.Tensor],
                with_neck: bool = True) -> 'OrderedDict[str, torch.Tensor]':
    """Official SAM names -> ``SAMViT`` names.

    Raises:
        ConversionError: no image encoder, or keys outside its layout.
    """
    has_prefix = any(k.startswith(PREFIX) for k in state_dict)
    out = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        if key.startswith('module.'):
            key = key[len('module.'):]
        if key.startswith(OTHER_SAM_PARTS):
            continue
        if has_prefix:
            if not key.startswith(PREFIX):
                unknown.append(key)
                continue
            key = key[len(PREFIX):]
        if not ENCODER_KEYS.match(key):
            unknown.append(key)
            continue
        if key.startswith('neck.') and not with_neck:
            continue
        out[key] = value
    if unknown:
        raise ConversionError(
            f'{len(unknown)} keys are outside the SAM image-encoder layout, '
            f'e.g. {unknown[:5]}.')
    if 'patch_embed.proj.weight' not in out or 'blocks.0.attn.qkv.weight' \
            not in out:
        raise ConversionError('no SAM image encoder found (expected '
                              '`image_encoder.patch_embed.proj.weight` ...).')
    return out


def describe(state_dict: Dict[str, torch.Tensor]) -> str:
    dims = state_dict['patch_embed.proj.weight'].shape[0]
    depth = 1 + max(
        int(k.split('.')[1]) for k in state_dict if k.startswith('blocks.'))
    window_len = min(v.shape[0] for k, v in state_dict.items()
                     if k.endswith('rel_pos_h'))
    global_blocks = sorted(
        int(k.split('.')[1]) for k, v in state_dict.items()
        if k.endswith('rel_pos_h') and v.shape[0] != window_len)
    neck = 'kept' if 'neck.0.weight' in state_dict else 'dropped'
    return (f'SAM image encoder {dims} wide, {depth} blocks, global '
            f'attention at {global_blocks}, neck {neck}')


def convert(src: str, dst: str,
            with_neck: bool = True) -> 'OrderedDict[str, torch.Tensor]':
    """Load ``src``, convert, save a plain tensor dict to ``dst``."""
    converted = convert_sam(load_tensor_dict(src), with_neck)
    torch.save(converted, dst)
    return converted


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert official SAM weights for mmpathseg SAMViT')
    parser.add_argument('src', help='local official SAM checkpoint')
    parser.add_argument('dst', help='output .pth (plain tensor dict)')
    parser.add_argument(
        '--no-neck',
        action='store_true',
        help='drop the neck (for SAMViT(with_neck=False))')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        converted = convert(args.src, args.dst, with_neck=not args.no_neck)
    except ConversionError as err:
        print(f'sam2mmpathseg: {err}', file=sys.stderr)
        return 1
    print(f'{args.dst}: {len(converted)} tensors; {describe(converted)}.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
