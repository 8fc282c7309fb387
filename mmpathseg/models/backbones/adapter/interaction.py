# Copyright (c) mmpathseg contributors. All rights reserved.
"""Injector, extractor and the interaction block of ViT-Adapter / CellVTA.

Notation: ``x`` are the ViT patch tokens ``(B, n, D)`` on the 1/16 grid
``(h, w)``; ``c`` are the adapter tokens ``(B, 16n + 4n + n, D)``, the
1/4, 1/8 and 1/16 maps flattened row-major and joined (CellVTA's levels).

* Injector: ``x <- x + gamma * MSDA(LN(x), LN(c))`` over the three adapter
  levels; ``gamma`` starts at ``init_values`` (CellVTA 1e-5; the paper
  writes 0, ViT-Adapter's default).
* Extractor: ``c <- c + MSDA(LN(c), LN(x))`` over the one ViT level, then
  ``c <- c + DropPath(ConvFFN(LN(c)))``.
* ConvFFN: Linear(D -> D * cffn_ratio), one depthwise 3x3 conv applied to
  each level's map separately, GELU, dropout, Linear back to D, dropout.
"""
from typing import Callable, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn.bricks import DropPath

from .ms_deform_attn import MSDeformAttn, split_levels

# (reference points, spatial shapes, level start index)
DeformInputs = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]
Shapes = Sequence[Tuple[int, int]]


class MultiLevelDWConv(nn.Module):
    """One depthwise 3x3 conv applied to every level of a token sequence."""

    def __init__(self, channels: int):
        super().__init__()
        self.dwconv = nn.Conv2d(
            channels, channels, 3, padding=1, bias=True, groups=channels)

    def forward(self, x: torch.Tensor, shapes: Shapes) -> torch.Tensor:
        """Args: x ``(B, sum(h*w), C)``, shapes ``[(h, w), ...]``.
        Returns the same shape."""
        return torch.cat([
            self.dwconv(level).flatten(2).transpose(1, 2)
            for level in split_levels(x, shapes)
        ], dim=1)


class ConvFFN(nn.Module):
    """FFN with a depthwise conv between its two linear layers."""

    def __init__(self, dims: int, hidden: int, drop: float = 0.):
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden)
        self.dwconv = MultiLevelDWConv(hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor, shapes: Shapes) -> torch.Tensor:
        x = self.act(self.dwconv(self.fc1(x), shapes))
        return self.drop(self.fc2(self.drop(x)))


def _maybe_checkpoint(fn: Callable, with_cp: bool, *args) -> torch.Tensor:
    if with_cp and any(a.requires_grad for a in args
                       if isinstance(a, torch.Tensor)):
        return cp.checkpoint(fn, *args, use_reentrant=False)
    return fn(*args)


class Injector(nn.Module):
    """Spatial-feature injector (adapter tokens -> ViT tokens).

    Args:
        dims (int): D.
        num_heads (int): Deformable heads. Defaults to 8.
        num_points (int): Defaults to 4.
        num_levels (int): Adapter levels attended. Defaults to 3.
        deform_ratio (float): Value width ratio. Defaults to 0.5.
        init_values (float): Initial ``gamma``. Defaults to 0.
        norm_eps (float): Defaults to 1e-6.
        with_cp (bool): Defaults to False.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int = 8,
                 num_points: int = 4,
                 num_levels: int = 3,
                 deform_ratio: float = 0.5,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 im2col_step: int = 64):
        super().__init__()
        self.with_cp = with_cp
        self.query_norm = nn.LayerNorm(dims, eps=norm_eps)
        self.feat_norm = nn.LayerNorm(dims, eps=norm_eps)
        self.attn = MSDeformAttn(dims, num_levels, num_heads, num_points,
                                 deform_ratio, im2col_step)
        self.gamma = nn.Parameter(init_values * torch.ones(dims))

    def forward(self, x: torch.Tensor, c: torch.Tensor,
                deform_inputs: DeformInputs) -> torch.Tensor:
        """Args: x ``(B, n, D)``, c ``(B, Nc, D)``. Returns x updated."""
        ref, shapes, starts = deform_inputs

        def inner(x, c):
            attn = self.attn(
                self.query_norm(x), ref, self.feat_norm(c), shapes, starts)
            return x + self.gamma * attn

        return _maybe_checkpoint(inner, self.with_cp, x, c)


class Extractor(nn.Module):
    """Multi-scale feature extractor (ViT tokens -> adapter tokens).

    Args:
        dims (int): D.
        num_heads (int): Defaults to 8.
        num_points (int): Defaults to 4.
        num_levels (int): ViT levels attended. Defaults to 1.
        deform_ratio (float): Defaults to 0.5.
        with_cffn (bool): Add the ConvFFN. Defaults to True.
        cffn_ratio (float): ConvFFN hidden ratio. Defaults to 0.25.
        drop (float): ConvFFN dropout. Defaults to 0.
        drop_path (float): Stochastic depth on the ConvFFN branch.
            Defaults to 0.
        norm_eps (float): Defaults to 1e-6.
        with_cp (bool): Defaults to False.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int = 8,
                 num_points: int = 4,
                 num_levels: int = 1,
                 deform_ratio: float = 0.5,
                 with_cffn: bool = True,
                 cffn_ratio: float = 0.25,
                 drop: float = 0.,
                 drop_path: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 im2col_step: int = 64):
        super().__init__()
        self.with_cp = with_cp
        self.query_norm = nn.LayerNorm(dims, eps=norm_eps)
        self.feat_norm = nn.LayerNorm(dims, eps=norm_eps)
        self.attn = MSDeformAttn(dims, num_levels, num_heads, num_points,
                                 deform_ratio, im2col_step)
        self.with_cffn = with_cffn
        if with_cffn:
            self.ffn = ConvFFN(dims, int(dims * cffn_ratio), drop)
            self.ffn_norm = nn.LayerNorm(dims, eps=norm_eps)
            self.drop_path = DropPath(drop_path) if drop_path > 0. else \
                nn.Identity()

    def forward(self, c: torch.Tensor, x: torch.Tensor,
                deform_inputs: DeformInputs, c_shapes: Shapes) -> torch.Tensor:
        """Args: c ``(B, Nc, D)`` (levels ``c_shapes``), x ``(B, n, D)``.
        Returns c updated."""
        ref, shapes, starts = deform_inputs

        def inner(c, x):
            c = c + self.attn(
                self.query_norm(c), ref, self.feat_norm(x), shapes, starts)
            if self.with_cffn:
                c = c + self.drop_path(
                    self.ffn(self.ffn_norm(c), c_shapes))
            return c

        return _maybe_checkpoint(inner, self.with_cp, c, x)


class InteractionBlock(nn.Module):
    """Injector, a stretch of ViT blocks, extractor(s).

    The ViT blocks belong to the ViT; :meth:`forward` runs them through the
    adapter protocol (:mod:`..vit_protocol`). With ``cls=None`` the blocks
    see patch tokens only (CellVTA); otherwise the class token joins them
    for the blocks (ViT-Adapter's ``InteractionBlockWithCls``).

    Args:
        dims (int): D.
        num_heads, num_points, deform_ratio, with_cffn, cffn_ratio, drop,
        drop_path, init_values, norm_eps, with_cp: see :class:`Injector`
            and :class:`Extractor`.
        extra_extractor (bool): Two more extractors after the first (the
            last interaction block in CellVTA / ViT-Adapter).
    """

    def __init__(self,
                 dims: int,
                 num_heads: int = 8,
                 num_points: int = 4,
                 deform_ratio: float = 0.5,
                 with_cffn: bool = True,
                 cffn_ratio: float = 0.25,
                 drop: float = 0.,
                 drop_path: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 extra_extractor: bool = False,
                 with_cp: bool = False,
                 im2col_step: int = 64):
        super().__init__()
        self.injector = Injector(dims, num_heads, num_points, 3, deform_ratio,
                                 init_values, norm_eps, with_cp, im2col_step)

        def extractor():
            return Extractor(dims, num_heads, num_points, 1, deform_ratio,
                             with_cffn, cffn_ratio, drop, drop_path, norm_eps,
                             with_cp, im2col_step)

        self.extractor = extractor()
        self.extra_extractors = nn.Sequential(
            extractor(), extractor()) if extra_extractor else None

    def forward(self, x: torch.Tensor, cls: Optional[torch.Tensor],
                c: torch.Tensor, vit: nn.Module, block_range: Tuple[int, int],
                inject_inputs: DeformInputs, extract_inputs: DeformInputs,
                c_shapes: Shapes
                ) -> Tuple[torch.Tensor, Optional[torch.Tensor],
                           torch.Tensor]:
        """One interaction stage.

        Args:
            x (Tensor): ViT tokens ``(B, h, w, D)``.
            cls (Tensor, optional): ``(B, 1, D)`` to pass through the blocks.
            c (Tensor): Adapter tokens ``(B, Nc, D)``.
            vit (nn.Module): The ViT (adapter protocol).
            block_range (tuple[int, int]): First and last block, inclusive.
            inject_inputs, extract_inputs: Deformable inputs of the injector
                (3 adapter levels, queries on the ViT grid) and extractor
                (1 ViT level, queries on the adapter levels).
            c_shapes: ``[(h, w)]`` of the adapter levels.

        Returns:
            tuple: ``x (B, h, w, D)``, ``cls``, ``c (B, Nc, D)``.
        """
        batch, grid_h, grid_w, dims = x.shape
        flat = self.injector(x.reshape(batch, -1, dims), c, inject_inputs)
        x, cls = vit.forward_blocks(
            flat.view(batch, grid_h, grid_w, dims), cls, block_range[0],
            block_range[1] + 1)
        flat = x.reshape(batch, -1, dims)
        c = self.extractor(c, flat, extract_inputs, c_shapes)
        if self.extra_extractors is not None:
            for extractor in self.extra_extractors:
                c = extractor(c, flat, extract_inputs, c_shapes)
        return x, cls, c
