# Copyright (c) mmpathseg contributors. All rights reserved.
"""tools/infer.py: a folder of tiles, a single file and a large .npy image
(tiled path) with a tiny random checkpoint saved to tmp_path."""
import json

import numpy as np
import pytest
import torch

import tools.infer as infer_tool



@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def cell_ckpt(tmp_path_factory, fx):
    path = tmp_path_factory.mktemp('ckpt') / 'cell.pth'
    return fx.save_random_checkpoint(fx.CELL_CONFIG, str(path), seed=4)


def test_folder(tmp_path, cell_ckpt, fx):
    fx.write_demo_tiles(str(tmp_path / 'in'), num=2)
    out = infer_tool.main([
        fx.CELL_CONFIG, cell_ckpt,
        str(tmp_path / 'in'), '--out-dir',
        str(tmp_path / 'out')
    ])
    assert out['num_inputs'] == 2
    names = sorted(p.name for p in (tmp_path / 'out').iterdir())
    assert names == sorted(
        [f'tile_{i}{s}' for i in range(2) for s in (
            '.geojson', '_coco.json', '_instances.png', '_types.png',
            '_summary.json')] + ['vis'])
    assert len(list((tmp_path / 'out' / 'vis').iterdir())) == 2


def test_single_file_semantic_no_vis(tmp_path, fx):
    tiles = fx.write_demo_tiles(str(tmp_path / 'in'), num=1)
    ckpt = fx.save_random_checkpoint(fx.UNET_CONFIG, str(tmp_path / 'u.pth'))
    infer_tool.main([
        fx.UNET_CONFIG, ckpt, tiles[0]['path'], '--out-dir',
        str(tmp_path / 'out'), '--no-vis', '--export', 'summary'
    ])
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
        'tile_0_summary.json'
    ]
    summary = json.load(open(tmp_path / 'out' / 'tile_0_summary.json'))
    assert sum(summary['pixel_counts'].values()) == 256 * 256


def test_large_npy_goes_through_tiles(tmp_path, cell_ckpt, fx):
    image, _, _ = fx.seam_image(300, 420, 256, 32, spacing=80)
    np.save(tmp_path / 'region.npy', image)
    infer_tool.main([
        fx.CELL_CONFIG, cell_ckpt,
        str(tmp_path / 'region.npy'), '--out-dir',
        str(tmp_path / 'out'), '--tile-size', '256', '--overlap', '32',
        '--export', 'geojson', 'summary', '--work-dir',
        str(tmp_path / 'work')
    ])
    summary = json.load(open(tmp_path / 'out' / 'region_summary.json'))
    assert (summary['height'], summary['width']) == (300, 420)
    assert (tmp_path / 'work' / 'region.npy' / 'inst_map.npy').is_file()
    import cv2
    assert cv2.imread(str(tmp_path / 'out' / 'vis' /
                          'region.png')).shape == (300, 420, 3)
    with pytest.raises(FileNotFoundError, match='missing'):
        infer_tool.main([
            fx.CELL_CONFIG, cell_ckpt,
            str(tmp_path / 'missing.png'), '--out-dir',
            str(tmp_path / 'o')
        ])
