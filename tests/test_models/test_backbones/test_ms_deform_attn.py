# Copyright (c) mmpathseg contributors. All rights reserved.
"""Multi-scale deformable attention: the CPU path against a direct
formulation (bilinear sampling per batch, query, head, level and point), and
our module's conventions against mmcv's MultiScaleDeformableAttention."""
import math

import pytest
import torch

from mmpathseg.models.backbones.adapter import (MSDeformAttn, level_layout,
                                                ms_deform_attn_core,
                                                reference_points)

SHAPES = [(6, 5), (3, 4), (2, 2)]


def bilinear_zero_pad(level: torch.Tensor, x: float, y: float) -> torch.Tensor:
    """Sample a (C, h, w) map at normalised (x, y), pixel centres at
    (i + 0.5) / size, zeros outside (Deformable DETR's kernel)."""
    channels, height, width = level.shape
    px, py = x * width - 0.5, y * height - 0.5
    x0, y0 = math.floor(px), math.floor(py)
    out = torch.zeros(channels, dtype=level.dtype)
    for yy, xx in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)):
        weight = (1 - abs(px - xx)) * (1 - abs(py - yy))
        if 0 <= yy < height and 0 <= xx < width:
            out += weight * level[:, yy, xx]
    return out


def direct_msda(value, shapes, locations, weights):
    """Sum over levels and points of weight * bilinear(value), per head."""
    batch, _, heads, head_dims = value.shape
    _, queries, _, levels, points, _ = locations.shape
    sizes = [h * w for h, w in shapes]
    maps = [
        part.permute(0, 2, 3, 1).reshape(batch, heads, head_dims, h, w)
        for part, (h, w) in zip(value.split(sizes, dim=1), shapes)
    ]
    out = torch.zeros(batch, queries, heads, head_dims, dtype=value.dtype)
    for b in range(batch):
        for q in range(queries):
            for m in range(heads):
                for lvl in range(levels):
                    for p in range(points):
                        x, y = locations[b, q, m, lvl, p].tolist()
                        out[b, q, m] += weights[b, q, m, lvl, p] * \
                            bilinear_zero_pad(maps[lvl][b, m], x, y)
    return out.reshape(batch, queries, heads * head_dims)


def test_cpu_path_equals_direct_bilinear_formulation():
    gen = torch.Generator().manual_seed(0)
    batch, queries, heads, head_dims, points = 2, 5, 2, 3, 2
    spatial, starts = level_layout(SHAPES, torch.device('cpu'))
    num_value = sum(h * w for h, w in SHAPES)
    value = torch.randn(batch, num_value, heads, head_dims, generator=gen,
                        dtype=torch.float64)
    # locations partly outside [0, 1] to exercise the zero padding
    locations = torch.rand(batch, queries, heads, len(SHAPES), points, 2,
                           generator=gen, dtype=torch.float64) * 1.4 - 0.2
    weights = torch.rand(batch, queries, heads, len(SHAPES) * points,
                         generator=gen, dtype=torch.float64).softmax(-1)
    weights = weights.view(batch, queries, heads, len(SHAPES), points)
    out = ms_deform_attn_core(value, spatial, starts, locations, weights)
    expected = direct_msda(value, SHAPES, locations, weights)
    assert out.shape == (batch, queries, heads * head_dims)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)


def test_compiled_kernel_has_no_cpu_implementation():
    """Documents why the CPU path is mmcv's grid_sample formulation."""
    from mmcv.ops.multi_scale_deform_attn import \
        MultiScaleDeformableAttnFunction
    spatial, starts = level_layout([(2, 2)], torch.device('cpu'))
    value = torch.randn(1, 4, 1, 2)
    locations = torch.rand(1, 3, 1, 1, 1, 2)
    weights = torch.ones(1, 3, 1, 1, 1)
    with pytest.raises(RuntimeError, match='cpu'):
        MultiScaleDeformableAttnFunction.apply(value, spatial, starts,
                                               locations, weights, 64)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_kernel_equals_cpu_path():  # pragma: no cover - CPU CI
    spatial, starts = level_layout(SHAPES, torch.device('cpu'))
    value = torch.randn(2, sum(h * w for h, w in SHAPES), 2, 8)
    locations = torch.rand(2, 7, 2, 3, 4, 2)
    weights = torch.rand(2, 7, 2, 12).softmax(-1).view(2, 7, 2, 3, 4)
    cpu = ms_deform_attn_core(value, spatial, starts, locations, weights)
    gpu = ms_deform_attn_core(value.cuda(), spatial.cuda(), starts.cuda(),
                              locations.cuda(), weights.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-5)


def test_reference_points_are_pixel_centres_xy_row_major():
    points = reference_points([(2, 3), (1, 1)], torch.device('cpu'))
    assert points.shape == (1, 7, 1, 2)
    expected = torch.tensor([[1 / 6, 1 / 4], [3 / 6, 1 / 4], [5 / 6, 1 / 4],
                             [1 / 6, 3 / 4], [3 / 6, 3 / 4], [5 / 6, 3 / 4],
                             [0.5, 0.5]])
    torch.testing.assert_close(points[0, :, 0], expected)
    spatial, starts = level_layout([(2, 3), (4, 1), (1, 1)],
                                   torch.device('cpu'))
    assert spatial.tolist() == [[2, 3], [4, 1], [1, 1]]
    assert starts.tolist() == [0, 6, 10]


def test_module_matches_mmcv_multiscale_deformable_attention():
    """Same parameters, same init, same output (mmcv adds the residual)."""
    from mmcv.ops import MultiScaleDeformableAttention
    torch.manual_seed(0)
    dims, heads, levels, points = 32, 4, 3, 2
    ours = MSDeformAttn(dims, levels, heads, points, value_proj_ratio=0.5)
    theirs = MultiScaleDeformableAttention(
        dims, heads, levels, points, dropout=0., batch_first=True,
        value_proj_ratio=0.5)
    # identical Deformable-DETR init of the offsets and attention weights
    torch.testing.assert_close(ours.sampling_offsets.bias,
                               theirs.sampling_offsets.bias)
    assert not ours.attention_weights.weight.any()
    # random weights everywhere, copied across
    for param in ours.parameters():
        torch.nn.init.normal_(param, std=0.1)
    theirs.load_state_dict(ours.state_dict())
    spatial, starts = level_layout(SHAPES, torch.device('cpu'))
    query = torch.randn(2, 9, dims)
    value = torch.randn(2, sum(h * w for h, w in SHAPES), dims)
    ref = torch.rand(2, 9, 1, 2)
    out = ours(query, ref, value, spatial, starts)
    expected = theirs(
        query,
        value=value,
        identity=torch.zeros_like(query),
        reference_points=ref.expand(-1, -1, levels, -1),
        spatial_shapes=spatial,
        level_start_index=starts)
    torch.testing.assert_close(out, expected)
