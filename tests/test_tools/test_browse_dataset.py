# Copyright (c) mmpathseg contributors. All rights reserved.
"""browse_dataset.py renders the pipeline outputs of the demo configs."""
from pathlib import Path

import cv2

from tools.analysis_tools import browse_dataset



def test_nuclei_and_semantic_configs(tmp_path, fx):
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


def _browse(fx, config, data_root, out_dir, split='val'):
    options = [
        f'{k}={v}' for k, v in fx.demo_loader_options(data_root).items()
    ]
    return browse_dataset.main(
        [config, '--output-dir',
         str(out_dir), '--split', split, '--num', '1', '--cfg-options'] +
        options)


def test_promptable_referring_and_text_configs(tmp_path, fx):
    from tools.misc.generate_ct_demo_data import main as make_ct
    from tools.misc.generate_tissue_ref_demo_data import main as make_ref
    from tools.misc.generate_xray_demo_data import main as make_xray
    make_ct(['--out', str(tmp_path / 'ct'), '--num-train', '1',
             '--num-test', '1'])
    make_ref(['--out', str(tmp_path / 'ref'), '--num-train', '1',
              '--num-val', '1'])
    make_xray(['--out', str(tmp_path / 'xray'), '--num-train', '1',
               '--num-val', '1', '--num-test', '1'])
    cases = [('configs/demo/syncsam-tiny_ct-demo.py', 'ct', 'test'),
             ('configs/demo/ltse-tiny_tissue-ref-demo.py', 'ref', 'val'),
             ('configs/demo/mlmoe-tiny_xray-demo.py', 'xray', 'val')]
    for config, name, split in cases:
        written = _browse(
            fx,
            str(Path(fx.REPO_ROOT) / config), tmp_path / name,
            tmp_path / f'out_{name}', split)
        assert len(written) == 1, config
        picture = cv2.imread(written[0])
        # Upscaled to >= 256 px with a text banner above the image.
        assert picture.shape[1] >= 256, config
        assert picture.shape[0] > picture.shape[1] * 0.9, config
        banner = picture[:20]
        assert (banner < 128).any(), f'{config}: no text drawn'
        image_part = picture[-picture.shape[1]:]
        # Masks / prompts are drawn in colour over grey or H&E images.
        spread = image_part.max(axis=2).astype(int) - image_part.min(axis=2)
        assert (spread > 60).mean() > 0.001, config
