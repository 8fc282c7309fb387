# Copyright (c) mmpathseg contributors. All rights reserved.
"""`tools/test.py --show-dir` on the promptable and referring demo configs
(random weights, tiny generated data): one picture per test sample, drawn
by the family's drawer (prompt-mode panels; an expression banner)."""
import os.path as osp

import cv2

import tools.test as test_tool

SYNCSAM = 'configs/demo/syncsam-tiny_ct-demo.py'
LTSE = 'configs/demo/ltse-tiny_tissue-ref-demo.py'


def _run(fx, config, ckpt, data_root, tmp_path, extra=()):
    options = fx.demo_loader_options(data_root)
    argv = [
        config, ckpt, '--work-dir',
        str(tmp_path / 'work'), '--show-dir',
        str(tmp_path / 'show'), '--show-interval', '1', '--cfg-options'
    ] + [f'{k}={v}' for k, v in options.items()] + list(extra)
    test_tool.main(argv)
    return sorted((tmp_path / 'show').rglob('*.png'))


def test_show_dir_promptable(fx, tmp_path):
    from tools.misc.generate_ct_demo_data import main as generate
    root = tmp_path / 'ct'
    generate(['--out', str(root), '--num-train', '1', '--num-test', '2'])
    config = osp.join(fx.REPO_ROOT, SYNCSAM)
    ckpt = fx.save_random_checkpoint(config, str(tmp_path / 's.pth'), seed=0)
    pictures = _run(fx, config, ckpt, root, tmp_path)
    assert [p.name for p in pictures] == [
        'test_ct_test_000.png_0.png', 'test_ct_test_001.png_0.png'
    ]
    image = cv2.imread(str(root / 'images' / 'ct_test_000.png'))
    picture = cv2.imread(str(pictures[0]))
    # Ground truth + box + 1 click + 5 clicks, each upscaled to >= 256 px,
    # under a text header.
    factor = -(-256 // max(image.shape[:2]))
    assert picture.shape[1] == 4 * factor * image.shape[1] + 3 * 6
    assert picture.shape[0] > factor * image.shape[0]


def test_show_dir_referring(fx, tmp_path):
    from tools.misc.generate_tissue_ref_demo_data import main as generate
    root = tmp_path / 'ref'
    generate(['--out', str(root), '--num-train', '1', '--num-val', '1'])
    config = osp.join(fx.REPO_ROOT, LTSE)
    ckpt = fx.save_random_checkpoint(config, str(tmp_path / 'l.pth'), seed=0)
    # No training split: a test run must not load it (the hook's step).
    pictures = _run(fx, config, ckpt, root, tmp_path, [
        'model.test_cfg.mode=generate', 'model.test_cfg.max_new_tokens=4',
        f'train_dataloader.dataset.data_root={tmp_path / "absent"}'
    ])
    # One picture per expression (5 per generated tile), named by ref id.
    names = [p.name for p in pictures]
    assert len(names) == 5 and len(set(names)) == 5
    assert all(n.startswith('test_val_0000.png_ref') for n in names)
    image = cv2.imread(str(root / 'images' / 'val_0000.png'))
    picture = cv2.imread(str(pictures[0]))
    factor = -(-256 // max(image.shape[:2]))
    assert picture.shape[1] == 2 * factor * image.shape[1] + 6
    # The banner (expression, answer, decisions) above the panels.
    banner = picture[:picture.shape[0] - factor * image.shape[0]]
    assert banner.shape[0] > 60 and (banner.max(axis=2) < 100).any()
