# Copyright (c) mmpathseg contributors. All rights reserved.
"""Multi-scale deformable attention (Deformable DETR) for the adapters.

Why not ``mmcv.ops.MultiScaleDeformableAttention`` itself: it adds a residual
and a dropout to its output (``dropout(out) + identity``) while ViT-Adapter /
CellVTA's ``MSDeformAttn`` returns the bare projection and the caller adds it
(scaled by ``gamma`` in the injector). The parameters are the same
(``sampling_offsets``, ``attention_weights``, ``value_proj``,
``output_proj``, with ``value_proj_ratio`` = CellVTA's ``ratio``).

The sampling itself is mmcv's:

* on CUDA, ``MultiScaleDeformableAttnFunction`` (the compiled kernel);
* elsewhere ``multi_scale_deformable_attn_pytorch`` (``F.grid_sample``,
  bilinear, zero padding, ``align_corners=False``). mmcv 2.1.0's compiled
  ``ms_deform_attn_forward`` has no CPU implementation ("implementation for
  device cpu not found"), so this is the CPU path; the tests compare it with
  a direct per-head/level/point bilinear formulation.
"""
import math
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.ops.multi_scale_deform_attn import (
    MultiScaleDeformableAttnFunction, multi_scale_deformable_attn_pytorch)


def ms_deform_attn_core(value: torch.Tensor, spatial_shapes: torch.Tensor,
                        level_start_index: torch.Tensor,
                        sampling_locations: torch.Tensor,
                        attention_weights: torch.Tensor,
                        im2col_step: int = 64) -> torch.Tensor:
    """Weighted bilinear sampling of multi-level values.

    Args:
        value (Tensor): ``(B, Nv, heads, Dh)``, the levels flattened
            row-major and concatenated.
        spatial_shapes (Tensor): ``(L, 2)`` long, ``(h, w)`` per level.
        level_start_index (Tensor): ``(L,)`` long, start of each level.
        sampling_locations (Tensor): ``(B, Nq, heads, L, P, 2)``, ``(x, y)``
            normalised to [0, 1] (pixel centres at ``(i + 0.5) / w``).
        attention_weights (Tensor): ``(B, Nq, heads, L, P)``, summing to 1
            over ``L * P``.
        im2col_step (int): CUDA kernel batch chunk. Defaults to 64.

    Returns:
        Tensor: ``(B, Nq, heads * Dh)``.
    """
    if value.is_cuda:
        return MultiScaleDeformableAttnFunction.apply(
            value, spatial_shapes, level_start_index, sampling_locations,
            attention_weights, im2col_step)
    return multi_scale_deformable_attn_pytorch(value, spatial_shapes,
                                               sampling_locations,
                                               attention_weights)


def reference_points(shapes: Sequence[Tuple[int, int]],
                     device: torch.device) -> torch.Tensor:
    """Pixel-centre reference points of several grids, ``(1, N, 1, 2)``.

    Points are ``((j + 0.5) / w, (i + 0.5) / h)`` in ``(x, y)`` order,
    row-major per level, levels concatenated.
    """
    points = []
    for height, width in shapes:
        ys = (torch.arange(height, dtype=torch.float32, device=device) +
              0.5) / height
        xs = (torch.arange(width, dtype=torch.float32, device=device) +
              0.5) / width
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
        points.append(torch.stack([grid_x.reshape(-1),
                                   grid_y.reshape(-1)], -1))
    return torch.cat(points, 0)[None, :, None]


def level_layout(shapes: Sequence[Tuple[int, int]], device: torch.device
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``spatial_shapes (L, 2)`` and ``level_start_index (L,)`` tensors."""
    spatial = torch.as_tensor(
        [list(s) for s in shapes], dtype=torch.long, device=device)
    starts = torch.cat(
        [spatial.new_zeros(1),
         spatial.prod(1).cumsum(0)[:-1]])
    return spatial, starts


class MSDeformAttn(nn.Module):
    """Deformable-DETR attention returning the bare output projection.

    Args:
        embed_dims (int): Query / value width D.
        num_levels (int): Value levels L. Defaults to 4.
        num_heads (int): Defaults to 8.
        num_points (int): Sampling points per head and level. Defaults to 4.
        value_proj_ratio (float): Value width ``D * ratio`` (CellVTA 0.5).
            Defaults to 1.0.
        im2col_step (int): CUDA kernel chunk. Defaults to 64.
    """

    def __init__(self,
                 embed_dims: int,
                 num_levels: int = 4,
                 num_heads: int = 8,
                 num_points: int = 4,
                 value_proj_ratio: float = 1.0,
                 im2col_step: int = 64):
        super().__init__()
        value_dims = int(embed_dims * value_proj_ratio)
        if value_dims % num_heads:
            raise ValueError(
                f'MSDeformAttn: value width {value_dims} (embed_dims '
                f'{embed_dims} x ratio {value_proj_ratio}) is not divisible '
                f'by num_heads {num_heads}.')
        self.embed_dims = embed_dims
        self.num_levels = num_levels
        self.num_heads = num_heads
        self.num_points = num_points
        self.im2col_step = im2col_step
        self.sampling_offsets = nn.Linear(
            embed_dims, num_heads * num_levels * num_points * 2)
        self.attention_weights = nn.Linear(embed_dims,
                                           num_heads * num_levels * num_points)
        self.value_proj = nn.Linear(embed_dims, value_dims)
        self.output_proj = nn.Linear(value_dims, embed_dims)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Deformable DETR init: zero offset weights with a polar grid of
        offsets in the bias (head h points at angle 2 pi h / heads, point p
        at distance p + 1), uniform attention, xavier value/output
        projections."""
        nn.init.zeros_(self.sampling_offsets.weight)
        thetas = torch.arange(
            self.num_heads, dtype=torch.float32,
            device=self.sampling_offsets.weight.device) * (
                2.0 * math.pi / self.num_heads)
        grid = torch.stack([thetas.cos(), thetas.sin()], -1)
        grid = grid / grid.abs().max(-1, keepdim=True)[0]
        grid = grid.view(self.num_heads, 1, 1, 2).repeat(
            1, self.num_levels, self.num_points, 1)
        grid = grid * torch.arange(
            1, self.num_points + 1, dtype=torch.float32,
            device=grid.device).view(1, 1, -1, 1)
        with torch.no_grad():
            self.sampling_offsets.bias.copy_(grid.view(-1))
        nn.init.zeros_(self.attention_weights.weight)
        nn.init.zeros_(self.attention_weights.bias)
        nn.init.xavier_uniform_(self.value_proj.weight)
        nn.init.zeros_(self.value_proj.bias)
        nn.init.xavier_uniform_(self.output_proj.weight)
        nn.init.zeros_(self.output_proj.bias)

    def forward(self, query: torch.Tensor, ref_points: torch.Tensor,
                value: torch.Tensor, spatial_shapes: torch.Tensor,
                level_start_index: torch.Tensor) -> torch.Tensor:
        """Attend from queries to multi-level values.

        Args:
            query (Tensor): ``(B, Nq, D)``.
            ref_points (Tensor): ``(1 or B, Nq, 1 or L, 2)`` in [0, 1],
                ``(x, y)``.
            value (Tensor): ``(B, Nv, D)``, levels flattened and joined.
            spatial_shapes (Tensor): ``(L, 2)`` long ``(h, w)``.
            level_start_index (Tensor): ``(L,)`` long.

        Returns:
            Tensor: ``(B, Nq, D)`` (no residual added).
        """
        batch, num_query, _ = query.shape
        num_value = value.shape[1]
        value = self.value_proj(value).view(batch, num_value, self.num_heads,
                                            -1)
        offsets = self.sampling_offsets(query).view(batch, num_query,
                                                    self.num_heads,
                                                    self.num_levels,
                                                    self.num_points, 2)
        weights = self.attention_weights(query).view(
            batch, num_query, self.num_heads,
            self.num_levels * self.num_points).softmax(-1).view(
                batch, num_query, self.num_heads, self.num_levels,
                self.num_points)
        # offsets are in pixels of each level: normalise by (w, h)
        normalizer = torch.stack([spatial_shapes[..., 1],
                                  spatial_shapes[..., 0]], -1).to(offsets)
        locations = ref_points[:, :, None, :, None, :] + \
            offsets / normalizer[None, None, None, :, None, :]
        out = ms_deform_attn_core(value, spatial_shapes, level_start_index,
                                  locations.to(value.dtype),
                                  weights.to(value.dtype), self.im2col_step)
        return self.output_proj(out)


def split_levels(tokens: torch.Tensor,
                 shapes: Sequence[Tuple[int, int]]) -> List[torch.Tensor]:
    """``(B, sum(h * w), C)`` -> list of ``(B, C, h, w)`` maps."""
    sizes = [h * w for h, w in shapes]
    maps = []
    for part, (height, width) in zip(tokens.split(sizes, dim=1), shapes):
        maps.append(part.transpose(1, 2).reshape(part.shape[0], -1, height,
                                                 width))
    return maps
