# Copyright (c) mmpathseg contributors. All rights reserved.
"""benchmark.py runs on the demo configs with a tiny random checkpoint
(random images and the config's data loader); benchmark_large_image.py's
table and image mosaic. Nothing here asserts on time."""

import numpy as np
import pytest
import torch

from tools.analysis_tools import benchmark, benchmark_large_image



@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_benchmark_random_images(tmp_path, capsys, fx):
    ckpt = fx.save_random_checkpoint(fx.CELL_CONFIG, str(tmp_path / 'c.pth'))
    runs = benchmark.main([
        fx.CELL_CONFIG, ckpt, '--shape', '64', '64', '--num-images', '3',
        '--warmup', '1', '--repeat', '2', '--threads', '1'
    ])
    assert len(runs) == 2
    for run in runs:
        assert run['images'] == 3 and run['images_per_s'] > 0
        assert run['peak_rss_mb'] > 0
    assert 'img/s (mean of 2 run(s)' in capsys.readouterr().out


def test_benchmark_test_loader(tmp_path, fx):
    root = fx.make_demo_dataset(tmp_path / 'demo', num_per_fold=1)
    ckpt = fx.save_random_checkpoint(fx.UNET_CONFIG, str(tmp_path / 'u.pth'))
    options = [f'{k}={v}' for k, v in fx.demo_loader_options(root).items()]
    runs = benchmark.main([
        fx.UNET_CONFIG, ckpt, '--num-images', '2', '--warmup', '0',
        '--threads', '1', '--cfg-options'
    ] + options)
    assert runs[0]['images'] == 2  # the 1-tile test fold, cycled


def test_large_image_table_and_mosaic(tmp_path):
    path = benchmark_large_image.mosaic_image(
        str(tmp_path / 'm.npy'), 300, tile=128, num_sources=2)
    image = np.load(path)
    assert image.shape == (300, 300, 3) and image.dtype == np.uint8
    assert image.std() > 10  # textured, not blank
    rows = [
        dict(side=100, tiles=1, nuclei=5, seconds=2.0, peak_extra_mb=10,
             output_mb=0.05),
        dict(side=200, tiles=4, nuclei=20, seconds=8.0, peak_extra_mb=11,
             output_mb=0.2)
    ]
    table = benchmark_large_image.format_table(rows)
    # area 4x, time 4x -> time per area ratio 1
    assert '| 200 | 4 | 20 | 8.0 | 2.00 | 4.0 | 4.00 | 1.00 | 11 | 0 |' \
        in table


def test_large_image_worker(tmp_path, fx):
    """The measurement the tool runs in each subprocess, in process."""
    ckpt = fx.save_random_checkpoint(fx.CELL_CONFIG, str(tmp_path / 'c.pth'))
    image = benchmark_large_image.mosaic_image(
        str(tmp_path / 'm.npy'), 288, tile=128, num_sources=2)
    args = benchmark_large_image.parse_args([
        fx.CELL_CONFIG, ckpt, '--tile-size', '256', '--overlap', '32'
    ])
    row = benchmark_large_image.run_one(args, 288, image,
                                        str(tmp_path / 'out'))
    assert row['side'] == 288 and row['tiles'] == 4
    assert row['seconds'] > 0 and row['output_mb'] > 0
    assert (tmp_path / 'out' / 'inst_map.npy').is_file()
