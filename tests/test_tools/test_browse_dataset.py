# Copyright (c) mmpathseg contributors. All rights reserved.
"""browse_dataset.py renders the pipeline outputs of the demo configs."""
import importlib.util
from pathlib import Path

import cv2

from tools.analysis_tools import browse_dataset

_spec = importlib.util.spec_from_file_location(
    'inference_fixtures',
    Path(__file__).resolve().parents[1] / 'data' / 'inference_fixtures.py')
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)


def test_nuclei_and_semantic_configs(tmp_path):
    root = fx.make_demo_dataset(tmp_path / 'demo', num_per_fold=2)
    options = [f'{k}={v}' for k, v in fx.demo_loader_options(root).items()]
    written = browse_dataset.main([
        fx.CELL_CONFIG, '--output-dir',
        str(tmp_path / 'cell'), '--num', '2', '--cfg-options'
    ] + options)
    assert len(written) == 2
    # image | instances | H | V of the 128 px training crops
    assert cv2.imread(written[0]).shape == (128, 4 * 128 + 3 * 4, 3)
    written = browse_dataset.main([
        fx.UNET_CONFIG, '--output-dir',
        str(tmp_path / 'sem'), '--split', 'test', '--num', '5',
        '--cfg-options'
    ] + options)
    assert len(written) == 2  # the test fold has 2 tiles
    assert cv2.imread(written[0]).shape == (256, 2 * 256 + 4, 3)
