# Copyright (c) mmpathseg contributors. All rights reserved.
"""SAM image encoders (ViT-B/L/H) returning intermediate block outputs.

The blocks, patch embedding, position embedding and neck are those of
``segment_anything.modeling.ImageEncoderViT`` built with SAM's settings
(windowed attention of size 14, global attention at the official indexes,
decomposed relative positions, LayerNorm eps 1e-6), adopted as our own
submodules so that parameter names equal the official ``image_encoder.*``
names without the prefix (``tools/model_converters/sam2mmpathseg.py``).

Input sizes other than 1024 (CellViT-SAM trains at 256), following CellViT
(``ViTCellViTDeit``):

* the absolute position embedding (a 64 x 64 table) is **cropped** to the
  top-left ``h x w`` entries (``pos_embed_mode='crop'``, the default);
  ``'interpolate'`` resamples it bicubically instead (ViTDet-style);
* windowed blocks pad the grid to a multiple of 14 (a 16 x 16 grid is padded
  to 28 x 28, four windows) and use their 27-entry tables unchanged;
* global blocks keep their 127-entry relative-position tables; SAM's
  ``get_rel_pos`` resamples them linearly to ``2 * 16 - 1 = 31`` at every
  forward. So the official checkpoint loads as is.

When this module is *built* for another ``img_size``, its tables are smaller
and a stored checkpoint is resampled at load time (position embedding
bicubic, relative-position tables linear, as SAM's own resampling).

CellViT-SAM feeds its tissue head with the spatial mean of the neck output
(256 channels): :meth:`head_token` returns that, ``(B, 256)``, so
``cls_channels`` is 256, not ``embed_dims``. ``with_neck=False`` drops the
neck (and returns ``cls_token=None``).
"""
from functools import partial
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig
from .vit_protocol import (FreezeMixin, check_out_indices,
                           default_out_indices, nchw)


def _import_image_encoder():
    try:
        from segment_anything.modeling import ImageEncoderViT
    except ImportError as err:  # pragma: no cover - environment problem
        raise ImportError(
            'SAMViT needs the `segment-anything` package (and a torchvision '
            'matching your torch): `pip install segment-anything`.') from err
    return ImageEncoderViT


def resample_rel_pos(table: torch.Tensor, length: int) -> torch.Tensor:
    """Linear resampling of a ``(L, C)`` relative-position table to
    ``(length, C)``, as SAM's ``get_rel_pos``."""
    if table.shape[0] == length:
        return table
    out = F.interpolate(
        table.float().t()[None], size=length, mode='linear')
    return out[0].t().to(table.dtype)


@MODELS.register_module()
class SAMViT(FreezeMixin, BaseModule):
    """SAM image encoder as a CellViT backbone.

    Presets (``arch``): ``'vit-b'`` (768 wide, 12 blocks, 12 heads, global
    attention at 2, 5, 8, 11), ``'vit-l'`` (1024, 24, 16; 5, 11, 17, 23),
    ``'vit-h'`` (1280, 32, 16; 7, 15, 23, 31), ``'tiny'`` (64, 4, 4; 1, 3;
    for tests). A dict with ``embed_dims``, ``num_layers``, ``num_heads``,
    ``global_attn_indexes`` is accepted too.

    Args:
        arch (str | dict): Defaults to 'vit-b'.
        img_size (int): Size the tables are built for (SAM: 1024).
            Defaults to 1024.
        patch_size (int): Defaults to 16.
        in_channels (int): Defaults to 3.
        window_size (int): Window of the non-global blocks. Defaults to 14.
        out_indices (Sequence[int], optional): 0-based blocks to return;
            None gives CellViT's extract layers (1/4, 1/2, 3/4, end: SAM-H
            7, 15, 23, 31 = CellViT's 1-based 8, 16, 24, 32).
        out_channels (int): Neck width. Defaults to 256.
        with_neck (bool): Keep the neck (needed for CellViT's tissue head
            and counted in CellViT's parameter totals). Defaults to True.
        pos_embed_mode (str): ``'crop'`` (CellViT) or ``'interpolate'``.
            Defaults to 'crop'.
        frozen (bool): Freeze everything, neck included (CellViT's
            ``freeze_encoder``). Defaults to False.
        frozen_stages (int): Freeze the embeddings and the first
            ``frozen_stages`` blocks (the neck too when it equals
            ``num_layers``). Defaults to -1 (nothing).
        frozen_eval (bool): Frozen modules in eval mode (SAM has no dropout,
            so this changes nothing today). Defaults to False.
        init_cfg (dict | list, optional): e.g. ``dict(type='Pretrained',
            checkpoint=...)`` with a file from ``sam2mmpathseg.py``.

    Returns of ``forward(inputs (B, 3, H, W))``: ``(feats, cls_token)``,
    ``feats`` a list of ``(B, D, H/16, W/16)`` block outputs and
    ``cls_token`` the ``(B, out_channels)`` neck mean (None without neck).
    """
    arch_zoo = {
        'tiny':
        dict(
            embed_dims=64,
            num_layers=4,
            num_heads=4,
            global_attn_indexes=(1, 3)),
        'vit-b':
        dict(
            embed_dims=768,
            num_layers=12,
            num_heads=12,
            global_attn_indexes=(2, 5, 8, 11)),
        'vit-l':
        dict(
            embed_dims=1024,
            num_layers=24,
            num_heads=16,
            global_attn_indexes=(5, 11, 17, 23)),
        'vit-h':
        dict(
            embed_dims=1280,
            num_layers=32,
            num_heads=16,
            global_attn_indexes=(7, 15, 23, 31)),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'vit-b',
                 img_size: int = 1024,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 window_size: int = 14,
                 out_indices: Optional[Sequence[int]] = None,
                 out_channels: int = 256,
                 with_neck: bool = True,
                 pos_embed_mode: str = 'crop',
                 frozen: bool = False,
                 frozen_stages: int = -1,
                 frozen_eval: bool = False,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self._init_freeze_state()
        arch = self._parse_arch(arch)
        if pos_embed_mode not in ('crop', 'interpolate'):
            raise ValueError(
                f'SAMViT: pos_embed_mode must be "crop" (CellViT) or '
                f'"interpolate", got {pos_embed_mode!r}.')
        self.embed_dims = arch['embed_dims']
        self.num_layers = arch['num_layers']
        self.global_attn_indexes = tuple(arch['global_attn_indexes'])
        self.patch_size = patch_size
        self.pos_embed_mode = pos_embed_mode
        self.out_indices = check_out_indices(
            default_out_indices(self.num_layers)
            if out_indices is None else out_indices, self.num_layers,
            'SAMViT')

        image_encoder = _import_image_encoder()(
            img_size=img_size,
            patch_size=patch_size,
            in_chans=in_channels,
            embed_dim=self.embed_dims,
            depth=self.num_layers,
            num_heads=arch['num_heads'],
            mlp_ratio=4,
            out_chans=out_channels,
            qkv_bias=True,
            norm_layer=partial(nn.LayerNorm, eps=1e-6),
            act_layer=nn.GELU,
            use_abs_pos=True,
            use_rel_pos=True,
            rel_pos_zero_init=True,
            window_size=window_size,
            global_attn_indexes=self.global_attn_indexes)
        # Adopt SAM's parts: our names are the official ones minus
        # `image_encoder.`.
        self.patch_embed = image_encoder.patch_embed
        self.pos_embed = image_encoder.pos_embed
        self.blocks = image_encoder.blocks
        self.neck = image_encoder.neck if with_neck else None
        self.cls_channels = out_channels if with_neck else None

        if frozen:
            self.freeze(trunk_only=False, eval_mode=frozen_eval)
        elif frozen_stages >= 0:
            if frozen_stages > self.num_layers:
                raise ValueError(
                    f'SAMViT: frozen_stages={frozen_stages} but there are '
                    f'only {self.num_layers} blocks.')
            modules = [self.patch_embed] + list(self.blocks[:frozen_stages])
            if frozen_stages == self.num_layers:
                modules.append(self.neck)
            self._freeze_parts(modules, [self.pos_embed], frozen_eval)

    def _parse_arch(self, arch: Union[str, dict]) -> dict:
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(
                    f'SAMViT: unknown arch {arch!r}; choose one of '
                    f'{sorted(self.arch_zoo)} or pass a dict.')
            return dict(self.arch_zoo[arch])
        needed = {'embed_dims', 'num_layers', 'num_heads',
                  'global_attn_indexes'}
        if not isinstance(arch, dict) or not needed <= set(arch):
            raise ValueError(f'SAMViT: a custom arch must be a dict with '
                             f'{sorted(needed)}, got {arch!r}.')
        return dict(arch)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Resample stored tables built for another ``img_size``."""
        key = prefix + 'pos_embed'
        stored = state_dict.get(key)
        if stored is not None and stored.shape != self.pos_embed.shape \
                and stored.shape[-1] == self.pos_embed.shape[-1]:
            grid = F.interpolate(
                stored.float().permute(0, 3, 1, 2),
                size=self.pos_embed.shape[1:3],
                mode='bicubic',
                align_corners=False)
            state_dict[key] = grid.permute(0, 2, 3, 1).to(stored.dtype)
            print_log(
                f'SAMViT: resampled {key} from {tuple(stored.shape)} to '
                f'{tuple(self.pos_embed.shape)}.',
                logger='current')
        for index, block in enumerate(self.blocks):
            for axis in ('h', 'w'):
                ours = getattr(block.attn, f'rel_pos_{axis}', None)
                key = f'{prefix}blocks.{index}.attn.rel_pos_{axis}'
                stored = state_dict.get(key)
                if ours is not None and stored is not None \
                        and stored.shape != ours.shape \
                        and stored.shape[1:] == ours.shape[1:]:
                    state_dict[key] = resample_rel_pos(stored, ours.shape[0])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ------------------------------------------------------------ freezing
    def freeze(self, trunk_only: bool = False, eval_mode: bool = False):
        """Freeze patch embedding, position embedding, blocks and, unless
        ``trunk_only``, the neck (which feeds the tissue head)."""
        modules = [self.patch_embed, self.blocks]
        if not trunk_only:
            modules.append(self.neck)
        self._freeze_parts(modules, [self.pos_embed], eval_mode)

    # ------------------------------------------------------------ protocol
    def resized_pos_embed(self, grid: Tuple[int, int]) -> torch.Tensor:
        """The ``(1, h, w, D)`` position embedding for a ``(h, w)`` grid."""
        table_h, table_w = self.pos_embed.shape[1:3]
        if (table_h, table_w) == tuple(grid):
            return self.pos_embed
        if self.pos_embed_mode == 'crop':
            if grid[0] > table_h or grid[1] > table_w:
                raise ValueError(
                    f'SAMViT: a {grid[0]}x{grid[1]} token grid exceeds the '
                    f'{table_h}x{table_w} position table, so it cannot be '
                    'cropped; use pos_embed_mode="interpolate".')
            return self.pos_embed[:, :grid[0], :grid[1], :]
        pos = F.interpolate(
            self.pos_embed.permute(0, 3, 1, 2),
            size=tuple(grid),
            mode='bicubic',
            align_corners=False)
        return pos.permute(0, 2, 3, 1)

    def embed(self, x: torch.Tensor) -> Tuple[torch.Tensor, None]:
        """Patch + position embedding: ``(B, H/16, W/16, D)`` and no class
        token."""
        height, width = x.shape[-2:]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f'SAMViT: input {height}x{width} is not a multiple of the '
                f'patch size {self.patch_size}; pad or crop the images.')
        tokens = self.patch_embed(x)
        return tokens + self.resized_pos_embed(tokens.shape[1:3]), None

    def forward_blocks(self, tokens: torch.Tensor, cls: Optional[torch.Tensor],
                       start: int, end: int) -> Tuple[torch.Tensor, None]:
        """Run blocks ``start .. end - 1`` on ``(B, h, w, D)`` tokens."""
        if cls is not None:
            raise ValueError(
                'SAMViT has no class token; its blocks take patch tokens '
                'only (set cls_token_through_blocks=False for adapters).')
        for block in self.blocks[start:end]:
            tokens = block(tokens)
        return tokens, None

    def head_token(self, tokens: torch.Tensor,
                   cls: Optional[torch.Tensor] = None
                   ) -> Optional[torch.Tensor]:
        """Spatial mean of the neck output, ``(B, out_channels)``."""
        if self.neck is None:
            return None
        return self.neck(nchw(tokens)).mean(dim=(2, 3))

    def forward(self, inputs: torch.Tensor
                ) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        """Args: inputs ``(B, C, H, W)``. Returns ``(feats, cls_token)``
        (see the class docstring)."""
        tokens, _ = self.embed(inputs)
        feats = []
        start = 0
        for index in self.out_indices:
            tokens, _ = self.forward_blocks(tokens, None, start, index + 1)
            feats.append(nchw(tokens))
            start = index + 1
        if self.neck is not None and start < self.num_layers:
            tokens, _ = self.forward_blocks(tokens, None, start,
                                            self.num_layers)
        return feats, self.head_token(tokens)
