# Copyright (c) mmpathseg contributors. All rights reserved.
"""A plain ViT in the timm layout, as UNI ships it.

UNI (MahmoodLab) is timm's ``vit_large_patch16_224`` with
``init_values=1e-5`` (LayerScale), ``dynamic_img_size=True`` and no head:
embed 1024, 24 blocks, 16 heads, MLP ratio 4, qkv bias, LayerNorm eps 1e-6,
GELU, a class token and learned position embeddings for a 14 x 14 grid plus
the class token (197 x 1024). Parameter names here are timm's
(``patch_embed.proj``, ``cls_token``, ``pos_embed``, ``blocks.N.norm1``,
``.attn.qkv``, ``.attn.proj``, ``.ls1.gamma``, ``.norm2``, ``.mlp.fc1``,
``.mlp.fc2``, ``.ls2.gamma``, ``norm``), so UNI's ``pytorch_model.bin``
loads without renaming (``tools/model_converters/uni2mmpathseg.py`` only
checks it and re-saves it as a plain tensor dict).

Position embeddings are resampled to the input grid at every forward, as
timm's ``dynamic_img_size`` does: bicubic with antialiasing (torch's
antialiased bicubic kernel, which differs slightly from the plain one even
when upsampling), ``align_corners=False``; the class-token entry is kept.
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig
from .vit_protocol import (FreezeMixin, check_out_indices,
                           default_out_indices, nchw)


def resample_abs_pos_embed(pos_embed: torch.Tensor,
                           new_size: Tuple[int, int],
                           old_size: Optional[Tuple[int, int]] = None,
                           num_prefix_tokens: int = 1,
                           mode: str = 'bicubic',
                           antialias: bool = True) -> torch.Tensor:
    """Resample a ``(1, prefix + h * w, D)`` position embedding to a grid.

    Same convention as timm's ``resample_abs_pos_embed``: the prefix
    (class-token) entries are kept, the grid part is interpolated in float32
    with ``align_corners=False``; a square table of the requested size is
    returned unchanged.

    Args:
        pos_embed (Tensor): ``(1, prefix + h * w, D)``.
        new_size (tuple[int, int]): target grid ``(h', w')``.
        old_size (tuple[int, int], optional): source grid; square if None.
        num_prefix_tokens (int): leading entries not on the grid.
            Defaults to 1.
        mode (str): ``F.interpolate`` mode. Defaults to 'bicubic'.
        antialias (bool): Defaults to True (timm's default).

    Returns:
        Tensor: ``(1, prefix + h' * w', D)``.
    """
    num_grid = pos_embed.shape[1] - num_prefix_tokens
    new_size = (int(new_size[0]), int(new_size[1]))
    if old_size is None:
        side = int(math.sqrt(num_grid))
        if side * side != num_grid:
            raise ValueError(
                f'position embedding of {num_grid} grid entries is not '
                'square; pass old_size.')
        old_size = (side, side)
    if tuple(old_size) == new_size:
        return pos_embed
    prefix = pos_embed[:, :num_prefix_tokens]
    grid = pos_embed[:, num_prefix_tokens:]
    dims = grid.shape[-1]
    grid = grid.float().reshape(1, old_size[0], old_size[1],
                                dims).permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid,
        size=new_size,
        mode=mode,
        antialias=antialias,
        align_corners=False if mode in ('bilinear', 'bicubic') else None)
    grid = grid.permute(0, 2, 3, 1).reshape(1, -1, dims).to(pos_embed.dtype)
    return torch.cat([prefix, grid], dim=1)


class PatchEmbed(nn.Module):
    """Non-overlapping patch projection (timm ``PatchEmbed`` names).

    Returns channels-last ``(B, H / p, W / p, D)``.
    """

    def __init__(self, in_channels: int, embed_dims: int, patch_size: int):
        super().__init__()
        self.proj = nn.Conv2d(
            in_channels, embed_dims, kernel_size=patch_size,
            stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class Attention(nn.Module):
    """Multi-head self-attention (timm names ``qkv``, ``proj``)."""

    def __init__(self,
                 dims: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.):
        super().__init__()
        if dims % num_heads:
            raise ValueError(
                f'embed_dims {dims} is not divisible by num_heads '
                f'{num_heads}.')
        self.num_heads = num_heads
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(dims, dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(dims, dims)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, dims = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.num_heads,
                                  dims // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        x = x.transpose(1, 2).reshape(batch, length, dims)
        return self.proj_drop(self.proj(x))


class LayerScale(nn.Module):
    """Per-channel residual scale; timm names the parameter ``gamma``."""

    def __init__(self, dims: int, init_values: float):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


class Mlp(nn.Module):
    """Two-layer MLP with GELU (timm names ``fc1``, ``fc2``)."""

    def __init__(self, dims: int, hidden: int, drop: float = 0.):
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden, dims)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class TransformerBlock(nn.Module):
    """Pre-norm ViT block with optional LayerScale (timm ``Block``).

    ``x + drop_path(ls1(attn(norm1(x))))``, then the same with the MLP.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 init_values: Optional[float] = None,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 norm_eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dims, eps=norm_eps)
        self.attn = Attention(dims, num_heads, qkv_bias, attn_drop, drop)
        self.ls1 = LayerScale(dims, init_values) if init_values else \
            nn.Identity()
        self.drop_path1 = DropPath(drop_path) if drop_path > 0. else \
            nn.Identity()
        self.norm2 = nn.LayerNorm(dims, eps=norm_eps)
        self.mlp = Mlp(dims, int(dims * mlp_ratio), drop)
        self.ls2 = LayerScale(dims, init_values) if init_values else \
            nn.Identity()
        self.drop_path2 = DropPath(drop_path) if drop_path > 0. else \
            nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        return x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))


@MODELS.register_module()
class UNIViT(FreezeMixin, BaseModule):
    """Plain ViT in the timm/UNI layout, returning four block outputs.

    Presets (``arch``): ``'tiny'`` (64 wide, 4 blocks, 4 heads; for tests
    and demos), ``'small'`` (384, 12, 6), ``'base'`` (768, 12, 12),
    ``'large'`` (1024, 24, 16; UNI), ``'huge'`` (1280, 32, 16); or a dict
    with ``embed_dims``, ``num_layers``, ``num_heads`` (and optionally
    ``mlp_ratio``).

    The class token always passes through the blocks here (CellViT style);
    only :class:`CellVTAAdapter` keeps it out, through the adapter protocol
    (:mod:`.vit_protocol`), which this class implements.

    Args:
        arch (str | dict): Preset name or dict. Defaults to 'large'.
        img_size (int): Pre-training size that fixes the position-embedding
            table (224 for UNI: 14 x 14 + 1 entries). Any input that is a
            multiple of ``patch_size`` is accepted; the table is resampled.
            Defaults to 224.
        patch_size (int): Defaults to 16.
        in_channels (int): Defaults to 3.
        out_indices (Sequence[int], optional): 0-based blocks whose outputs
            are returned; None gives the blocks at 1/4, 1/2, 3/4 and the end
            (ViT-L: 5, 11, 17, 23 = CellViT's 1-based 6, 12, 18, 24).
        qkv_bias (bool): Defaults to True.
        init_values (float, optional): LayerScale init; None or 0 disables
            LayerScale (no ``ls*.gamma``). Defaults to 1e-5 (UNI).
        drop_rate (float): Dropout after the position embedding, attention
            projection and MLP. Defaults to 0.
        attn_drop_rate (float): Attention dropout. Defaults to 0.
        drop_path_rate (float): Stochastic depth, ``linspace(0, rate,
            num_layers)`` over the blocks. Defaults to 0 (CellVTA uses 0.4).
        with_cls_token (bool): Defaults to True.
        final_norm (bool): Keep the final LayerNorm ``norm``. Defaults to
            True.
        norm_cls_token (bool): Return the class token after the final norm
            (timm/CellViT-256 ``forward_head``) rather than raw (CellViT++'s
            ``ViTCellViTUNI`` takes ``x[:, 0]`` before the norm). Defaults to
            True.
        norm_eps (float): LayerNorm eps. Defaults to 1e-6.
        interpolate_mode (str): Position-embedding resampling mode.
            Defaults to 'bicubic'.
        antialias (bool): Antialiased resampling (timm). Defaults to True.
        frozen (bool): Freeze everything (CellViT's ``freeze_encoder``:
            every encoder parameter, final norm included). Defaults to False.
        frozen_stages (int): Freeze the embeddings and the first
            ``frozen_stages`` blocks (mmpretrain semantics; the final norm
            too when it equals ``num_layers``). -1 freezes nothing.
            Defaults to -1.
        frozen_eval (bool): Run frozen modules in eval mode (no dropout or
            stochastic depth). Defaults to False, as the references.
        init_cfg (dict | list, optional): e.g. ``dict(type='Pretrained',
            checkpoint='checkpoints/uni_vit-l16.pth')`` (a file made by
            ``tools/model_converters/uni2mmpathseg.py``).

    Returns of ``forward(inputs (B, 3, H, W))``: ``(feats, cls_token)`` with
    ``feats`` a list of ``(B, D, H/16, W/16)`` block outputs (not normed) and
    ``cls_token`` ``(B, D)`` (None without a class token).
    """
    arch_zoo = {
        'tiny': dict(embed_dims=64, num_layers=4, num_heads=4),
        'small': dict(embed_dims=384, num_layers=12, num_heads=6),
        'base': dict(embed_dims=768, num_layers=12, num_heads=12),
        'large': dict(embed_dims=1024, num_layers=24, num_heads=16),
        'huge': dict(embed_dims=1280, num_layers=32, num_heads=16),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'large',
                 img_size: int = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 out_indices: Optional[Sequence[int]] = None,
                 qkv_bias: bool = True,
                 init_values: Optional[float] = 1e-5,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 with_cls_token: bool = True,
                 final_norm: bool = True,
                 norm_cls_token: bool = True,
                 norm_eps: float = 1e-6,
                 interpolate_mode: str = 'bicubic',
                 antialias: bool = True,
                 frozen: bool = False,
                 frozen_stages: int = -1,
                 frozen_eval: bool = False,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self._init_freeze_state()
        arch = self._parse_arch(arch)
        self.embed_dims = arch['embed_dims']
        self.num_layers = arch['num_layers']
        self.num_heads = arch['num_heads']
        mlp_ratio = arch.get('mlp_ratio', 4.)
        self.patch_size = patch_size
        self.grid_size = (img_size // patch_size, img_size // patch_size)
        self.num_prefix_tokens = 1 if with_cls_token else 0
        self.norm_cls_token = norm_cls_token
        self.interpolate_mode = interpolate_mode
        self.antialias = antialias
        self.out_indices = check_out_indices(
            default_out_indices(self.num_layers)
            if out_indices is None else out_indices, self.num_layers,
            type(self).__name__)

        dims = self.embed_dims
        self.patch_embed = PatchEmbed(in_channels, dims, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims)) \
            if with_cls_token else None
        num_pos = self.grid_size[0] * self.grid_size[1] + \
            self.num_prefix_tokens
        self.pos_embed = nn.Parameter(torch.zeros(1, num_pos, dims))
        self.pos_drop = nn.Dropout(drop_rate)
        # stochastic depth ramp (plain floats: works on the meta device)
        rates = [
            drop_path_rate * i / max(self.num_layers - 1, 1)
            for i in range(self.num_layers)
        ]
        self.blocks = nn.ModuleList([
            TransformerBlock(
                dims,
                self.num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                init_values=init_values,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_path=rates[i],
                norm_eps=norm_eps) for i in range(self.num_layers)
        ])
        self.norm = nn.LayerNorm(dims, eps=norm_eps) if final_norm else \
            nn.Identity()
        self.cls_channels = dims if with_cls_token else None
        self._init_timm_weights()

        if frozen:
            self.freeze(trunk_only=False, eval_mode=frozen_eval)
        elif frozen_stages >= 0:
            self._freeze_stages(frozen_stages, frozen_eval)

    # ------------------------------------------------------------ building
    def _parse_arch(self, arch: Union[str, dict]) -> dict:
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(
                    f'{type(self).__name__}: unknown arch {arch!r}; choose '
                    f'one of {sorted(self.arch_zoo)} or pass a dict.')
            return dict(self.arch_zoo[arch])
        needed = {'embed_dims', 'num_layers', 'num_heads'}
        if not isinstance(arch, dict) or not needed <= set(arch):
            raise ValueError(
                f'{type(self).__name__}: a custom arch must be a dict with '
                f'{sorted(needed)}, got {arch!r}.')
        return dict(arch)

    def _init_timm_weights(self) -> None:
        """timm ``init_weights('')``: trunc-normal(0.02) Linear weights and
        position embedding, zero biases, class token normal(std 1e-6)."""
        trunc_normal_(self.pos_embed, std=.02)
        if self.cls_token is not None:
            nn.init.normal_(self.cls_token, std=1e-6)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Resample a stored position embedding of another grid size."""
        key = prefix + 'pos_embed'
        stored = state_dict.get(key)
        if stored is not None and stored.shape != self.pos_embed.shape \
                and stored.shape[-1] == self.pos_embed.shape[-1]:
            state_dict[key] = resample_abs_pos_embed(
                stored,
                self.grid_size,
                num_prefix_tokens=self.num_prefix_tokens,
                mode=self.interpolate_mode,
                antialias=self.antialias)
            print_log(
                f'{type(self).__name__}: resampled {key} from '
                f'{tuple(stored.shape)} to {tuple(self.pos_embed.shape)}.',
                logger='current')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ------------------------------------------------------------ freezing
    def freeze(self, trunk_only: bool = False, eval_mode: bool = False):
        """Freeze patch embedding, class token, position embedding, blocks
        and, unless ``trunk_only``, the final norm.

        CellVTA freezes the trunk only (its final norm feeds the tissue head
        and trains); CellViT's ``freeze_encoder`` freezes everything.
        """
        modules = [self.patch_embed, self.pos_drop, self.blocks]
        if not trunk_only:
            modules.append(self.norm)
        self._freeze_parts(modules, [self.cls_token, self.pos_embed],
                           eval_mode)

    def _freeze_stages(self, frozen_stages: int, eval_mode: bool) -> None:
        if frozen_stages > self.num_layers:
            raise ValueError(
                f'{type(self).__name__}: frozen_stages={frozen_stages} but '
                f'there are only {self.num_layers} blocks.')
        modules = [self.patch_embed, self.pos_drop]
        modules += list(self.blocks[:frozen_stages])
        if frozen_stages == self.num_layers:
            modules.append(self.norm)
        self._freeze_parts(modules, [self.cls_token, self.pos_embed],
                           eval_mode)

    # ------------------------------------------------------------ protocol
    def resized_pos_embed(self, grid: Tuple[int, int]) -> torch.Tensor:
        """The position embedding for a ``(h, w)`` grid,
        ``(1, prefix + h * w, D)``."""
        return resample_abs_pos_embed(
            self.pos_embed,
            grid,
            old_size=self.grid_size,
            num_prefix_tokens=self.num_prefix_tokens,
            mode=self.interpolate_mode,
            antialias=self.antialias)

    def embed(self, x: torch.Tensor
              ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Patch + position embedding.

        Args:
            x (Tensor): ``(B, C, H, W)``, H and W multiples of the patch.

        Returns:
            tuple: tokens ``(B, H/p, W/p, D)`` and the class token
            ``(B, 1, D)`` (its position embedding added) or None.
        """
        height, width = x.shape[-2:]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f'{type(self).__name__}: input {height}x{width} is not a '
                f'multiple of the patch size {self.patch_size}; pad or crop '
                'the images (e.g. the data preprocessor\'s size_divisor).')
        tokens = self.patch_embed(x)
        batch, grid_h, grid_w, dims = tokens.shape
        pos = self.resized_pos_embed((grid_h, grid_w))
        tokens = tokens + pos[:, self.num_prefix_tokens:].reshape(
            1, grid_h, grid_w, dims)
        tokens = self.pos_drop(tokens)
        cls = None
        if self.cls_token is not None:
            cls = self.pos_drop(
                (self.cls_token + pos[:, :1]).expand(batch, -1, -1))
        return tokens, cls

    def forward_blocks(self, tokens: torch.Tensor, cls: Optional[torch.Tensor],
                       start: int, end: int
                       ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Run blocks ``start .. end - 1`` on ``(B, h, w, D)`` tokens, with
        the ``(B, 1, D)`` class token prepended when given."""
        batch, grid_h, grid_w, dims = tokens.shape
        seq = tokens.reshape(batch, grid_h * grid_w, dims)
        if cls is not None:
            seq = torch.cat([cls, seq], dim=1)
        for block in self.blocks[start:end]:
            seq = block(seq)
        if cls is not None:
            cls, seq = seq[:, :1], seq[:, 1:]
        return seq.reshape(batch, grid_h, grid_w, dims), cls

    def head_token(self, tokens: torch.Tensor,
                   cls: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """The class token, ``(B, D)``, after the final norm when
        ``norm_cls_token``; None without a class token."""
        if cls is None:
            return None
        cls = cls[:, 0]
        return self.norm(cls) if self.norm_cls_token else cls

    # ------------------------------------------------------------ forward
    def forward(self, inputs: torch.Tensor
                ) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        """Args: inputs ``(B, C, H, W)``. Returns ``(feats, cls_token)``
        (see the class docstring)."""
        tokens, cls = self.embed(inputs)
        feats = []
        start = 0
        for index in self.out_indices:
            tokens, cls = self.forward_blocks(tokens, cls, start, index + 1)
            feats.append(nchw(tokens))
            start = index + 1
        if start < self.num_layers and cls is not None:
            # the class token needs the remaining blocks
            tokens, cls = self.forward_blocks(tokens, cls, start,
                                              self.num_layers)
        return feats, self.head_token(tokens, cls)
