# Copyright (c) mmpathseg contributors. All rights reserved.
"""`tools/test.py --show-dir` draws nuclei instances with the registered
visualizer (configured in configs/_base_/default_runtime.py)."""
import cv2

import tools.test as test_tool


def test_show_dir_draws_instances(fx, tmp_path):
    root = fx.make_demo_dataset(tmp_path / 'demo', num_per_fold=2)
    ckpt = fx.save_random_checkpoint(fx.CELL_CONFIG,
                                     str(tmp_path / 'c.pth'), seed=3)
    options = fx.demo_loader_options(root)
    options['default_hooks.visualization.interval'] = 1
    argv = [
        fx.CELL_CONFIG, ckpt, '--work-dir',
        str(tmp_path / 'work'), '--show-dir',
        str(tmp_path / 'show'), '--cfg-options'
    ] + [f'{k}={v}' for k, v in options.items()]
    test_tool.main(argv)
    pictures = sorted((tmp_path / 'show').rglob('*.png'))
    assert len(pictures) == 2
    picture = cv2.imread(str(pictures[0]))
    assert picture.shape == (256, 512, 3)  # ground truth | prediction
