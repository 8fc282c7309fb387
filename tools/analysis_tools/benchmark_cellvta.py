# Copyright (c) mmpathseg contributors. All rights reserved.
"""Time CellVTA on the CPU: the network forward (eval, ``no_grad``) and one
training step of whole configs, and mmpathseg's multi-scale deformable
attention (MSDA) against a straightforward formulation, in the same run.

Models
    Every config is built the way the tools build it (``Config.fromfile``,
    ``init_default_scope('mmpathseg')``, ``MODELS.build(cfg.model)``) with
    every ``init_cfg`` and ``pretrained`` removed, so no weights are read
    from disk (the weights are the constructors' random ones; timings do not
    depend on them). The input is one synthetic 256 x 256 H&E-like tile with
    a ``SegDataSample`` carrying ``gt_sem_seg``, ``gt_instance_map``,
    ``gt_hv_map`` and metainfo ``tissue_label``.

    * forward: ``model.data_preprocessor`` + ``model(..., mode='tensor')``
      in eval mode under ``torch.no_grad()`` -- the raw NP/HV/NC/tissue
      maps; HoVer-Net's watershed post-processing is *not* included (see
      ``benchmark_postprocessing.py``).
    * train step: ``model.train_step(data, optim_wrapper)`` with the
      config's ``optim_wrapper`` built by ``build_optim_wrapper``, as the
      runner does it: preprocessing, forward, losses, backward and the
      optimizer step (the frozen UNI trunk of the full config gets no
      gradients, as in training).

    Each config runs in a fresh subprocess; peak memory is that process's
    resident-set high-water mark (``resource.getrusage(RUSAGE_SELF)
    .ru_maxrss``) read after building the model, after the forward passes
    and after the training steps. It therefore includes the Python/torch/
    mmcv runtime itself (a few hundred MB) and, since it is a high-water
    mark, each column is the maximum up to that point, not the cost of that
    phase alone. It is the number that matters for "does it fit in RAM".

MSDA
    ``ms_deform_attn_core`` (on the CPU mmcv's
    ``multi_scale_deformable_attn_pytorch``: one ``F.grid_sample`` per
    level over all heads and points) against ``direct_msda`` below: explicit
    bilinear interpolation (four corner gathers, zero outside the map,
    Deformable DETR's pixel-centre convention), looping over heads, levels
    and points, vectorised over batch and queries. Both get the same random
    float32 inputs (sampling locations partly outside [0, 1]); the time is
    the best of ``--msda-repeats`` after one warm-up, and the max absolute
    difference of the outputs is printed. Shapes (batch 1) are CellVTA's at
    a 256 px input (D = 1024, ratio 0.5 -> 512 value channels, 8 heads of
    64, 4 points): the injector (256 ViT tokens querying the 64x64, 32x32
    and 16x16 adapter levels), the extractor (5376 adapter tokens querying
    the 16x16 ViT map), and a small shape.

Examples::

    python tools/analysis_tools/benchmark_cellvta.py
    python tools/analysis_tools/benchmark_cellvta.py --skip-full --repeats 5
    python tools/analysis_tools/benchmark_cellvta.py \
        --configs configs/demo/cellvta-tiny_pannuke-demo.py --skip-msda
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

TINY_CONFIG = 'configs/demo/cellvta-tiny_pannuke-demo.py'
FULL_CONFIG = 'configs/cellvta/uni_pannuke-fold1.py'
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# name: (queries, levels, heads, head_dims, points)
MSDA_SHAPES = {
    'injector': (256, [(64, 64), (32, 32), (16, 16)], 8, 64, 4),
    'extractor': (5376, [(16, 16)], 8, 64, 4),
    'small': (64, [(8, 8), (4, 4)], 2, 16, 2),
}

# ---------------------------------------------------------------------------
# Multi-scale deformable attention
# ---------------------------------------------------------------------------


def direct_msda(value: torch.Tensor, shapes: Sequence[Tuple[int, int]],
                locations: torch.Tensor,
                weights: torch.Tensor) -> torch.Tensor:
    """Straightforward MSDA: for every head, level and point, bilinear
    interpolation by hand (four corner gathers, zeros outside the map,
    pixel centres at ``(i + 0.5) / size``), weighted and summed.

    Args:
        value: ``(B, Nv, heads, Dh)``, levels flattened row-major.
        shapes: ``(h, w)`` per level.
        locations: ``(B, Nq, heads, L, P, 2)`` normalised ``(x, y)``.
        weights: ``(B, Nq, heads, L, P)``.

    Returns:
        Tensor: ``(B, Nq, heads * Dh)``.
    """
    batch, _, heads, head_dims = value.shape
    _, queries, _, _, points, _ = locations.shape
    out = value.new_zeros(batch, queries, heads, head_dims)
    start = 0
    for lvl, (height, width) in enumerate(shapes):
        level = value[:, start:start + height * width]
        start += height * width
        for head in range(heads):
            head_map = level[:, :, head]  # (B, h*w, Dh)
            for point in range(points):
                px = locations[:, :, head, lvl, point, 0] * width - 0.5
                py = locations[:, :, head, lvl, point, 1] * height - 0.5
                x0, y0 = px.floor(), py.floor()
                attn = weights[:, :, head, lvl, point]
                for dy in (0, 1):
                    for dx in (0, 1):
                        xi, yi = x0 + dx, y0 + dy
                        corner = ((1 - (px - xi).abs()) *
                                  (1 - (py - yi).abs()))
                        inside = ((xi >= 0) & (xi < width) & (yi >= 0) &
                                  (yi < height))
                        index = (yi.clamp(0, height - 1) * width +
                                 xi.clamp(0, width - 1)).long()
                        sample = torch.gather(
                            head_map, 1,
                            index[..., None].expand(-1, -1, head_dims))
                        scale = attn * corner * inside.to(value.dtype)
                        out[:, :, head] += scale[..., None] * sample
    return out.reshape(batch, queries, heads * head_dims)


def msda_inputs(queries: int, shapes: Sequence[Tuple[int, int]], heads: int,
                head_dims: int, points: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    levels = len(shapes)
    num_value = sum(h * w for h, w in shapes)
    value = torch.randn(1, num_value, heads, head_dims, generator=gen)
    locations = torch.rand(
        1, queries, heads, levels, points, 2, generator=gen) * 1.2 - 0.1
    weights = torch.rand(
        1, queries, heads, levels * points, generator=gen).softmax(-1)
    return value, locations, weights.view(1, queries, heads, levels, points)


def _best_time(fn, repeats: int) -> Tuple[float, torch.Tensor]:
    out = fn()  # warm-up
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def bench_msda(names: Sequence[str], repeats: int) -> List[Dict]:
    from mmpathseg.models.backbones.adapter import (level_layout,
                                                    ms_deform_attn_core)
    rows = []
    for name in names:
        queries, shapes, heads, head_dims, points = MSDA_SHAPES[name]
        value, locations, weights = msda_inputs(queries, shapes, heads,
                                                head_dims, points)
        spatial, starts = level_layout(shapes, torch.device('cpu'))
        with torch.no_grad():
            t_ours, ours = _best_time(
                lambda: ms_deform_attn_core(value, spatial, starts,
                                            locations, weights), repeats)
            t_direct, direct = _best_time(
                lambda: direct_msda(value, shapes, locations, weights),
                repeats)
        rows.append(
            dict(
                name=name,
                shape=(f'Nq={queries}, levels='
                       + '+'.join(f'{h}x{w}' for h, w in shapes)
                       + f', {heads}x{head_dims} ch, P={points}'),
                ours_ms=t_ours * 1e3,
                direct_ms=t_direct * 1e3,
                ratio=t_direct / t_ours,
                max_abs_diff=float((ours - direct).abs().max())))
    return rows


# ---------------------------------------------------------------------------
# Whole models (run in a fresh subprocess each)
# ---------------------------------------------------------------------------


def _strip_init(cfg):
    """Remove every ``init_cfg`` and ``pretrained`` (in place)."""
    if isinstance(cfg, dict):
        for key in list(cfg.keys()):
            if key == 'init_cfg':
                cfg[key] = None
            elif key == 'pretrained':
                cfg[key] = None
            else:
                _strip_init(cfg[key])
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            _strip_init(item)
    return cfg


def fake_batch(size: int = 256, seed: int = 0, tissue: int = 0) -> Dict:
    """One synthetic H&E-like tile with nuclei and all training targets."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmpathseg.datasets.transforms.nuclei_targets import instance_hv_map
    rng = np.random.default_rng(seed)
    inst = np.zeros((size, size), np.int64)
    types = np.zeros((size, size), np.int64)
    yy, xx = np.mgrid[:size, :size]
    for k in range(1, size * size // 1000 + 1):
        cy, cx = rng.integers(8, size - 8, 2)
        mask = ((yy - cy)**2 + (xx - cx)**2 <= 36) & (inst == 0)
        inst[mask] = k
        types[mask] = 1 + k % 5
    img = np.full((size, size, 3), 220, np.uint8)
    img[inst > 0] = (150, 60, 120)
    img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
    sample = SegDataSample(
        metainfo=dict(
            ori_shape=(size, size),
            img_shape=(size, size),
            pad_shape=(size, size),
            tissue_label=tissue))
    sample.gt_sem_seg = PixelData(data=torch.from_numpy(types)[None])
    sample.gt_instance_map = PixelData(data=torch.from_numpy(inst)[None])
    sample.gt_hv_map = PixelData(data=torch.from_numpy(instance_hv_map(inst)))
    return dict(
        inputs=[torch.from_numpy(img).permute(2, 0, 1).contiguous()],
        data_samples=[sample])


def _maxrss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024**2 if sys.platform == 'darwin' else 1024)


def bench_model(config: str, repeats: int, warmup: int,
                size: int = 256) -> Dict:
    """Build ``config`` and time forward and train steps in this process."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from mmpathseg.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    model_cfg = _strip_init(cfg.model)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    rss_build = _maxrss_mb()
    data = fake_batch(size)

    def forward():
        with torch.no_grad():
            batch = model.data_preprocessor(data, False)
            return model(batch['inputs'], batch['data_samples'],
                         mode='tensor')

    def train_step():
        return model.train_step(data, optim_wrapper)

    model.eval()
    fwd = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        forward()
        if i >= warmup:
            fwd.append(time.perf_counter() - start)
    rss_fwd = _maxrss_mb()
    model.train()
    train = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        losses = train_step()
        if i >= warmup:
            train.append(time.perf_counter() - start)
    rss_train = _maxrss_mb()
    assert all(
        np.isfinite(float(torch.as_tensor(v).detach()))
        for v in losses.values()), losses
    return dict(
        config=osp.relpath(config, REPO_ROOT)
        if osp.realpath(config).startswith(REPO_ROOT) else config,
        params_m=params / 1e6,
        trainable_m=trainable / 1e6,
        repeats=repeats,
        warmup=warmup,
        forward_s=float(np.median(fwd)),
        forward_min_s=float(np.min(fwd)),
        train_s=float(np.median(train)),
        train_min_s=float(np.min(train)),
        rss_build_mb=rss_build,
        rss_forward_mb=rss_fwd,
        rss_train_mb=rss_train,
        size=size,
        threads=torch.get_num_threads())


def _resolve(config: str) -> str:
    """Absolute path: as given if it exists, else under the repository."""
    if osp.exists(config):
        return osp.abspath(config)
    return osp.join(REPO_ROOT, config)


def _is(config: str, reference: str) -> bool:
    return osp.realpath(_resolve(config)) == osp.realpath(
        _resolve(reference))


def run_model_subprocess(config: str, repeats: int, warmup: int,
                         size: int = 256) -> Dict:
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--_worker',
        _resolve(config), '--repeats',
        str(repeats), '--warmup',
        str(warmup), '--size',
        str(size)
    ]
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'benchmark of {config} failed:\n{proc.stderr}')
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith('RESULT '):
            return json.loads(line[len('RESULT '):])
    raise RuntimeError(f'no result from {config}:\n{proc.stdout}')


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def format_tables(models: List[Dict], msda: List[Dict]) -> str:
    lines = []
    if models:
        lines += [
            '| config | params (M) / trainable | forward, eval no_grad (s) '
            '| train step (s) | peak RSS MB: build / +forward / +train '
            '| runs |', '|---|---|---|---|---|---|'
        ]
        for r in models:
            lines.append(
                f"| {osp.basename(r['config'])} "
                f"| {r['params_m']:.1f} / {r['trainable_m']:.1f} "
                f"| {r['forward_s']:.3f} (min {r['forward_min_s']:.3f}) "
                f"| {r['train_s']:.3f} (min {r['train_min_s']:.3f}) "
                f"| {r['rss_build_mb']:.0f} / {r['rss_forward_mb']:.0f} / "
                f"{r['rss_train_mb']:.0f} "
                f"| {r['repeats']} after {r['warmup']} warm-up |")
        lines.append('')
    if msda:
        lines += [
            '| MSDA shape | sizes | ms_deform_attn_core (ms) '
            '| direct loops (ms) | direct / ours | max abs diff |',
            '|---|---|---|---|---|---|'
        ]
        for r in msda:
            lines.append(f"| {r['name']} | {r['shape']} | {r['ours_ms']:.2f} "
                         f"| {r['direct_ms']:.2f} | {r['ratio']:.2f}x "
                         f"| {r['max_abs_diff']:.2e} |")
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--configs',
        nargs='+',
        default=None,
        help=f'configs to time (default: {TINY_CONFIG} and {FULL_CONFIG})')
    parser.add_argument(
        '--repeats',
        type=int,
        default=None,
        help='timed runs per config (default 3 for the tiny config, 1 for '
        'others)')
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed runs first')
    parser.add_argument(
        '--skip-full', action='store_true', help=f'leave out {FULL_CONFIG}')
    parser.add_argument(
        '--msda-shapes',
        nargs='*',
        default=list(MSDA_SHAPES),
        choices=list(MSDA_SHAPES),
        help='MSDA shapes to compare (none: skip)')
    parser.add_argument(
        '--msda-repeats', type=int, default=3, help='best of N MSDA runs')
    parser.add_argument(
        '--size',
        type=int,
        default=256,
        help='square input tile of the model runs (PanNuke: 256)')
    parser.add_argument(
        '--in-process',
        action='store_true',
        help='run the models in this process (faster start; the peak RSS '
        'then includes everything run before, e.g. earlier configs)')
    parser.add_argument('--json', help='also write the results here')
    parser.add_argument('--_worker', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    if args._worker:
        repeats = 1 if args.repeats is None else args.repeats
        result = bench_model(args._worker, repeats, args.warmup, args.size)
        print('RESULT ' + json.dumps(result), flush=True)
        return ''
    configs = args.configs or [TINY_CONFIG, FULL_CONFIG]
    if args.skip_full:
        configs = [c for c in configs if not _is(c, FULL_CONFIG)]
    models = []
    for config in configs:
        repeats = args.repeats
        if repeats is None:
            repeats = 3 if _is(config, TINY_CONFIG) else 1
        where = 'this process' if args.in_process else 'fresh subprocess'
        print(f'timing {config} ({repeats} runs after {args.warmup} '
              f'warm-up, {where}) ...', flush=True)
        if args.in_process:
            models.append(
                bench_model(_resolve(config), repeats, args.warmup,
                            args.size))
        else:
            models.append(
                run_model_subprocess(config, repeats, args.warmup,
                                     args.size))
    msda = bench_msda(args.msda_shapes, args.msda_repeats)
    table = format_tables(models, msda)
    print(f'\ntorch {torch.__version__}, {torch.get_num_threads()} threads, '
          f'CPU, models at batch 1, {args.size} x {args.size}\n')
    print(table)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(models=models, msda=msda), f, indent=2)
    return table


if __name__ == '__main__':
    main()
