# Copyright (c) mmpathseg contributors. All rights reserved.
"""Time and memory of tiled large-image inference against image area.

    python tools/analysis_tools/benchmark_large_image.py CONFIG [CHECKPOINT]
        [--sides 1024 2048 4096] [--tile-size 256] [--overlap 32]
        [--batch-size 4] [--work-dir DIR] [--keep-output-in-memory]

For every side ``S`` a synthetic H&E-like ``S x S`` image is written as an
``.npy`` file (a mosaic of demo tiles from
``tools/misc/generate_demo_data.py``, flipped and rotated so nuclei cross
the inference tile seams), then :func:`mmpathseg.apis.infer_large_image`
runs on it, reading it tile by tile. Each run happens in a fresh
subprocess, so its peak resident memory is its own. Printed per size: the
number of tiles and nuclei, seconds, and, as ratios against the smallest
size measured in the same run, area, time and time per area (a time per
area ratio near 1 means time grows linearly with area), plus the peak RSS
above the model-loaded baseline next to the bytes of the image-sized
outputs (instance map int32 + type map uint8) — memory that grows no faster
than the outputs. Output maps are memory-mapped under ``--work-dir`` (a
temporary folder by default), so with it the outputs do not have to fit in
memory either.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Large-image inference: time and memory vs area')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--sides', type=int, nargs='+',
                        default=[1024, 2048, 4096])
    parser.add_argument('--tile-size', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--threads', type=int, default=1,
                        help='torch intra-op threads of the runs')
    parser.add_argument('--work-dir', default=None,
                        help='where the images and memory-mapped outputs go')
    parser.add_argument('--_worker', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def mosaic_image(path: str, side: int, tile: int = 256, seed: int = 0,
                 num_sources: int = 16) -> str:
    """Write an ``(side, side, 3)`` uint8 RGB ``.npy`` made of flipped and
    rotated demo tiles, row by row (never the whole image in memory)."""
    from tools.misc.generate_demo_data import generate_tile
    sources = [
        generate_tile(np.random.default_rng(seed + k), tile)[0]
        for k in range(num_sources)
    ]
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(
        path, mode='w+', dtype=np.uint8, shape=(side, side, 3))
    for y in range(0, side, tile):
        row = np.empty((min(tile, side - y), side, 3), np.uint8)
        for x in range(0, side, tile):
            src = np.rot90(sources[rng.integers(num_sources)],
                           int(rng.integers(4)))
            if rng.integers(2):
                src = src[:, ::-1]
            row[:, x:x + tile] = src[:row.shape[0], :min(tile, side - x)]
        out[y:y + row.shape[0]] = row
    out.flush()
    del out
    return path


def run_one(args, side: int, image: str, work_dir: str) -> Dict:
    """One measurement (in the worker process)."""
    import torch
    torch.set_num_threads(args.threads)
    from mmpathseg.apis import infer_large_image, init_model
    from mmpathseg.utils.memory import current_rss_mb, peak_rss_mb
    from mmpathseg.utils.memory import reset_peak_rss
    model = init_model(args.config, args.checkpoint)
    # Warm up on one tile: lazy allocations and kernels out of the timing.
    infer_large_image(
        model, np.zeros((args.tile_size, args.tile_size, 3), np.uint8),
        tile_size=args.tile_size, overlap=args.overlap, progress=False)
    baseline = current_rss_mb()
    reset_peak_rss()
    start = time.perf_counter()
    result = infer_large_image(
        model,
        image,
        tile_size=args.tile_size,
        overlap=args.overlap,
        batch_size=args.batch_size,
        work_dir=work_dir,
        progress=False)
    seconds = time.perf_counter() - start
    num = len(result['instances']['ids']) if 'instances' in result else 0
    return dict(
        side=side,
        tiles=result['num_tiles'],
        nuclei=num,
        seconds=seconds,
        peak_extra_mb=peak_rss_mb() - baseline,
        output_mb=side * side * 5 / 2**20)


def format_table(rows: List[Dict]) -> str:
    """Markdown table with ratios against the first (smallest) row."""
    ref = rows[0]
    lines = [
        '| side | tiles | nuclei | seconds | s/tile | area ratio | '
        'time ratio | time/area ratio | peak RSS above baseline (MiB) | '
        'outputs (MiB) |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
        '---:|'
    ]
    for row in rows:
        area = (row['side'] / ref['side'])**2
        ratio = row['seconds'] / ref['seconds']
        lines.append(
            f'| {row["side"]} | {row["tiles"]} | {row["nuclei"]} | '
            f'{row["seconds"]:.1f} | {row["seconds"] / row["tiles"]:.2f} | '
            f'{area:.1f} | {ratio:.2f} | '
            f'{ratio / area:.2f} | {row["peak_extra_mb"]:.0f} | '
            f'{row["output_mb"]:.0f} |')
    return '\n'.join(lines)


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    if args._worker:
        side, image, work_dir = json.loads(args._worker)
        print('RESULT ' + json.dumps(run_one(args, side, image, work_dir)),
              flush=True)
        return []
    sides = sorted(set(args.sides))
    rows = []
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        for side in sides:
            image = mosaic_image(osp.join(tmp, f'image_{side}.npy'), side)
            cmd = [sys.executable, osp.abspath(__file__), args.config]
            cmd += [args.checkpoint] if args.checkpoint else []
            cmd += [
                '--tile-size', str(args.tile_size), '--overlap',
                str(args.overlap), '--batch-size', str(args.batch_size),
                '--threads', str(args.threads), '--_worker',
                json.dumps([side, image, osp.join(tmp, f'out_{side}')])
            ]
            env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep +
                       os.environ.get('PYTHONPATH', ''))
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env=env, cwd=ROOT)
            lines = [l for l in proc.stdout.splitlines()
                     if l.startswith('RESULT ')]
            if proc.returncode or not lines:
                raise RuntimeError(f'benchmark_large_image: the run for side '
                                   f'{side} failed:\n{proc.stderr[-3000:]}')
            rows.append(json.loads(lines[-1][len('RESULT '):]))
            os.remove(image)
            print(f'side {side}: {rows[-1]["seconds"]:.1f} s', flush=True)
    print(f'\n{args.config} ({args.checkpoint or "random weights"}), tile '
          f'{args.tile_size}, overlap {args.overlap}, batch '
          f'{args.batch_size}, {args.threads} thread(s)')
    print(format_table(rows))
    return rows


if __name__ == '__main__':
    main()
