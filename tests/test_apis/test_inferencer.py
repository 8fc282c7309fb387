# Copyright (c) mmpathseg contributors. All rights reserved.
"""MMPathSegInferencer: registered, folder in, pictures and exports out."""
import json
import os

import cv2
import numpy as np
import pytest

from mmpathseg.apis import MMPathSegInferencer
from mmpathseg.registry import INFERENCERS


@pytest.fixture(scope='module')
def tiles(tmp_path_factory, fx):
    folder = tmp_path_factory.mktemp('tiles')
    tiles = fx.write_demo_tiles(str(folder), num=2)
    (folder / 'notes.txt').write_text('not an image')
    return folder, tiles


def test_registered():
    assert INFERENCERS.get('MMPathSegInferencer') is MMPathSegInferencer


def test_cell_folder_to_exports(fx, tiles, tmp_path):
    folder, _ = tiles
    ckpt = fx.save_random_checkpoint(fx.CELL_CONFIG,
                                     str(tmp_path / 'c.pth'), seed=2)
    inferencer = MMPathSegInferencer(
        fx.CELL_CONFIG, ckpt, show_progress=False)
    out = inferencer(
        str(folder),
        out_dir=str(tmp_path / 'out'),
        export_formats=('geojson', 'summary'),
        return_vis=True)
    assert len(out['predictions']) == 2
    names = sorted(os.listdir(tmp_path / 'out'))
    assert names == [
        'tile_0.geojson', 'tile_0_summary.json', 'tile_1.geojson',
        'tile_1_summary.json', 'vis'
    ]
    assert sorted(os.listdir(tmp_path / 'out' / 'vis')) == [
        'tile_0.png', 'tile_1.png'
    ]
    for pred, name in zip(out['predictions'], ('tile_0', 'tile_1')):
        summary = json.load(open(tmp_path / 'out' / f'{name}_summary.json'))
        assert summary['num_instances'] == len(pred['instances']['ids'])
        assert sum(summary['counts'].values()) == summary['num_instances']
        picture = cv2.imread(str(tmp_path / 'out' / 'vis' / f'{name}.png'))
        assert picture.shape == (256, 256, 3)
    assert out['visualization'][0].shape == (256, 256, 3)


def test_arrays_and_datasamples(fx, tiles):
    _, demo = tiles
    inferencer = MMPathSegInferencer(fx.UNET_CONFIG, show_progress=False)
    bgr = np.ascontiguousarray(demo[0]['img'][..., ::-1])
    out = inferencer([bgr, bgr], batch_size=2, return_datasamples=True)
    assert len(out['predictions']) == 2
    assert out['predictions'][0].pred_sem_seg.shape == (256, 256)
    assert out['files'] == []
    # dict inputs carry (here: no) extra inputs
    out = inferencer(dict(img=bgr))
    assert out['predictions'][0]['sem_seg'].shape == (256, 256)


def test_batches_keep_names_aligned(fx, tmp_path):
    tiles = fx.write_demo_tiles(str(tmp_path / 'in'), num=3, size=64)
    inferencer = MMPathSegInferencer(fx.UNET_CONFIG, show_progress=False)
    out = inferencer([t['path'] for t in tiles], batch_size=2,
                     out_dir=str(tmp_path / 'out'),
                     export_formats=('png', ), return_vis=True)
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
        'tile_0_sem_seg.png', 'tile_1_sem_seg.png', 'tile_2_sem_seg.png',
        'vis'
    ]
    assert len(out['visualization']) == 3
    from mmpathseg.exports.masks import read_label_png
    for k in range(3):
        np.testing.assert_array_equal(
            read_label_png(tmp_path / 'out' / f'tile_{k}_sem_seg.png'),
            out['predictions'][k]['sem_seg'])
