# Copyright (c) mmpathseg contributors. All rights reserved.
"""Inference speed (images/s) and peak memory of a config + checkpoint.

    python tools/analysis_tools/benchmark.py CONFIG [CHECKPOINT]
        [--shape H W] [--num-images 50] [--warmup 5] [--batch-size 1]
        [--repeat 1] [--threads N] [--cfg-options k=v ...]

Images come from the config's test data loader (as mmseg's benchmark) or,
with ``--shape``, are random ``H x W`` images (no dataset needed). The time
covers the data preprocessor, the network and the post-processing
(``model.test_step``); loading is excluded. Peak memory is the process'
resident-set high-water mark during the timed runs (reset before them on
Linux) and, on GPU, the peak CUDA allocation. Without a checkpoint the
weights are random (same speed, meaningless predictions).
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, Iterator, List, Sequence

import numpy as np
import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from mmpathseg.apis import init_model  # noqa: E402
from mmpathseg.utils.memory import (peak_cuda_mb, peak_rss_mb,  # noqa: E402
                                    reset_peak_rss)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark inference')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument(
        '--shape', type=int, nargs=2, metavar=('H', 'W'),
        help='random images of this size instead of the test data loader')
    parser.add_argument('--num-images', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=1,
                        help='repeat the measurement, report each and mean')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, `key=value` pairs')
    return parser.parse_args(argv)


def random_batches(shape: Sequence[int], batch_size: int,
                   seed: int = 0) -> Iterator[Dict]:
    """Endless batches of random uint8 ``(3, H, W)`` images, as a data loader
    gives them (no data samples: the model makes them)."""
    rng = np.random.default_rng(seed)
    while True:
        yield dict(inputs=[
            torch.from_numpy(rng.integers(0, 256, (3, ) + tuple(shape),
                                          dtype=np.uint8))
            for _ in range(batch_size)
        ])


def loader_batches(cfg: Config, batch_size: int) -> Iterator[Dict]:
    """Endless batches of the config's test data loader."""
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.batch_size = batch_size
    loader_cfg.num_workers = 0
    loader_cfg.persistent_workers = False
    loader = Runner.build_dataloader(loader_cfg)
    while True:
        yield from loader


def benchmark(model: torch.nn.Module, batches: Iterator[Dict],
              num_images: int, warmup: int) -> Dict:
    """Time ``model.test_step`` over ``num_images`` images after
    ``warmup`` batches; returns ``images``, ``seconds``, ``images_per_s``,
    ``peak_rss_mb``, ``peak_cuda_mb``."""
    with torch.no_grad():
        for _ in range(warmup):
            model.test_step(next(batches))
        reset_peak_rss()
        done, elapsed = 0, 0.0
        while done < num_images:
            batch = next(batches)
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            start = time.perf_counter()
            model.test_step(batch)
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            elapsed += time.perf_counter() - start
            done += len(batch['inputs'])
    return dict(
        images=done,
        seconds=elapsed,
        images_per_s=done / elapsed,
        peak_rss_mb=peak_rss_mb(),
        peak_cuda_mb=peak_cuda_mb())


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_model(cfg, args.checkpoint, args.device)
    runs = []
    for run in range(args.repeat):
        batches = random_batches(args.shape, args.batch_size, run) \
            if args.shape else loader_batches(cfg, args.batch_size)
        res = benchmark(model, batches, args.num_images, args.warmup)
        runs.append(res)
        print(f'run {run + 1}: {res["images"]} images in '
              f'{res["seconds"]:.2f} s, {res["images_per_s"]:.2f} img/s, '
              f'peak RSS {res["peak_rss_mb"]:.0f} MiB'
              + (f', peak CUDA {res["peak_cuda_mb"]:.0f} MiB'
                 if torch.cuda.is_available() else ''))
    mean = float(np.mean([r['images_per_s'] for r in runs]))
    source = f'random {args.shape[0]}x{args.shape[1]}' if args.shape \
        else 'test data loader'
    print(f'{args.config}: {mean:.2f} img/s (mean of {len(runs)} run(s), '
          f'batch {args.batch_size}, {source}, {torch.get_num_threads()} '
          'threads)')
    return runs


if __name__ == '__main__':
    main()
