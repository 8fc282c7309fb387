# Copyright (c) mmpathseg contributors. All rights reserved.
"""Convert UNI's ``pytorch_model.bin`` into an mmpathseg ``UNIViT`` checkpoint.

    python tools/model_converters/uni2mmpathseg.py \\
        /path/to/UNI/pytorch_model.bin checkpoints/uni_vit-l16.pth

UNI (MahmoodLab/UNI on Hugging Face; gated, non-commercial, not
redistributable) is a timm ``vit_large_patch16_224`` state dict. ``UNIViT``
uses timm's parameter names, so the conversion keeps every name; it checks
that the file is a plain dict of tensors in the timm ViT layout (loaded with
``torch.load(weights_only=True)``, so nothing in it is executed), drops a
classifier ``head.*`` if present, strips a ``module.`` prefix, and saves a
plain tensor dict that mmpathseg's weights-only loader accepts. Use it as
``init_cfg=dict(type='Pretrained', checkpoint='checkpoints/uni_vit-l16.pth')``
of the ``UNIViT`` (also inside ``CellVTAAdapter(vit=...)``).

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

# Every name a timm ViT with LayerScale and a class token may have.
TIMM_VIT_KEYS = re.compile(
    r'^(patch_embed\.proj\.(weight|bias)|cls_token|pos_embed|'
    r'norm\.(weight|bias)|'
    r'blocks\.\d+\.(norm1|norm2)\.(weight|bias)|'
    r'blocks\.\d+\.attn\.(qkv|proj)\.(weight|bias)|'
    r'blocks\.\d+\.(ls1|ls2)\.gamma|'
    r'blocks\.\d+\.mlp\.(fc1|fc2)\.(weight|bias))$')
REQUIRED = ('patch_embed.proj.weight', 'pos_embed', 'cls_token',
            'blocks.0.attn.qkv.weight')
DROPPED_PREFIXES = ('head.', 'fc_norm.')


def load_tensor_dict(path: str) -> Dict[str, torch.Tensor]:
    """Load ``path`` weights-only as a flat ``name -> tensor`` dict."""
    return load_tensor_state_dict(
        path, 'Use the official UNI `pytorch_model.bin`.')


def convert_uni(state_dict: Dict[str, torch.Tensor]
                ) -> 'OrderedDict[str, torch.Tensor]':
    """timm/UNI names -> ``UNIViT`` names (identical; checked).

    Raises:
        ConversionError: keys outside the timm ViT layout, or missing ones.
    """
    out = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        if key.startswith('module.'):
            key = key[len('module.'):]
        if key.startswith(DROPPED_PREFIXES):
            continue
        if not TIMM_VIT_KEYS.match(key):
            unknown.append(key)
            continue
        out[key] = value
    if unknown:
        raise ConversionError(
            f'{len(unknown)} keys are not in the timm ViT layout UNIViT '
            f'implements, e.g. {unknown[:5]} (register tokens or SwiGLU '
            'MLPs, as in UNI2-h, are not supported).')
    missing = [k for k in REQUIRED if k not in out]
    if missing:
        raise ConversionError(f'missing {missing}: not a UNI/timm ViT state '
                              'dict.')
    return out


def describe(state_dict: Dict[str, torch.Tensor]) -> str:
    dims = state_dict['patch_embed.proj.weight'].shape[0]
    patch = state_dict['patch_embed.proj.weight'].shape[-1]
    depth = 1 + max(
        int(k.split('.')[1]) for k in state_dict if k.startswith('blocks.'))
    grid = int((state_dict['pos_embed'].shape[1] - 1)**0.5)
    scale = 'with' if 'blocks.0.ls1.gamma' in state_dict else 'without'
    return (f'ViT {dims} wide, {depth} blocks, patch {patch}, position table '
            f'{grid}x{grid}+cls, {scale} LayerScale')


def convert(src: str, dst: str) -> 'OrderedDict[str, torch.Tensor]':
    """Load ``src``, convert, save a plain tensor dict to ``dst``."""
    converted = convert_uni(load_tensor_dict(src))
    torch.save(converted, dst)
    return converted


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert UNI weights (timm layout) for mmpathseg UNIViT')
    parser.add_argument('src', help='local UNI pytorch_model.bin')
    parser.add_argument('dst', help='output .pth (plain tensor dict)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        converted = convert(args.src, args.dst)
    except ConversionError as err:
        print(f'uni2mmpathseg: {err}', file=sys.stderr)
        return 1
    print(f'{args.dst}: {len(converted)} tensors; {describe(converted)}.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
