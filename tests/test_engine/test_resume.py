# Copyright (c) mmpathseg contributors. All rights reserved.
"""Resuming gives the same parameters and the same next losses as an
uninterrupted run (the demo config, shrunk, on tiny generated data), and the
demo checkpoint tests with ``tools/test.py --show-dir`` (metrics and
pictures)."""
import json
import sys
from pathlib import Path

import pytest
import torch

from mmpathseg.utils.checkpoint import load_weights_only

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / 'tests' / 'data'))
from pannuke_demo import make_pannuke_demo  # noqa: E402

CONFIG = str(REPO_ROOT / 'configs/demo/unet-tiny_pannuke-demo.py')
N = 4  # iterations; the interrupted run stops at N // 2


def _train(argv):
    from tools.train import main
    main(argv)


def _options(data_root: Path, name: str, max_iters: int) -> list:
    """cfg-options that shrink the demo: tiny data and 64 px crops, no
    workers, a short deterministic schedule, a checkpoint every N // 2
    iterations, a log line per iteration, one validation tile."""
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    # Runs share this process: distinct names keep their loggers, message
    # hubs and visualizers (and so their log folders) apart.
    options = [f'experiment_name={name}', f'visualizer.name={name}']
    for loader in loaders:
        options += [
            f'{loader}.dataset.data_root={data_root}',
            f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
        ]
    options += [
        'train_dataloader.batch_size=2',
        'train_dataloader.dataset.pipeline.2.crop_size=(64,64)',
        'model.data_preprocessor.size=(64,64)',
        'val_dataloader.dataset.indices=1',
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={N}',
        f'default_hooks.checkpoint.interval={N // 2}',
        'default_hooks.checkpoint.max_keep_ckpts=-1',
        'default_hooks.logger.interval=1',
        'randomness.seed=0',
        'randomness.deterministic=True',
    ]
    return ['--cfg-options'] + options


def _losses(work_dir: Path) -> dict:
    """``{iter: {loss key: value}}`` from every run logged in ``work_dir``."""
    losses = {}
    for scalars in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in scalars.read_text().splitlines():
            record = json.loads(line)
            if 'loss' in record:
                losses[record['iter']] = {
                    k: v
                    for k, v in record.items() if k.startswith('loss')
                }
    return losses


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp('resume')
    data = make_pannuke_demo(root / 'data', num_per_fold=2)
    full, part = root / 'full', root / 'part'
    _train([CONFIG, '--work-dir', str(full)] + _options(data, 'full', N))
    _train([CONFIG, '--work-dir', str(part)] +
           _options(data, 'part_a', N // 2))
    assert (part / f'iter_{N // 2}.pth').is_file()
    assert not (part / f'iter_{N}.pth').exists()
    _train([CONFIG, '--work-dir', str(part), '--resume'] +
           _options(data, 'part_b', N))
    yield dict(data=data, full=full, part=part)
    # `randomness.deterministic` is process-wide; leave it as we found it.
    torch.use_deterministic_algorithms(False)


def test_resume_gives_same_parameters(runs):
    full = load_weights_only(str(runs['full'] / f'iter_{N}.pth'))
    part = load_weights_only(str(runs['part'] / f'iter_{N}.pth'))
    assert part['meta']['iter'] == full['meta']['iter'] == N
    assert full['state_dict'].keys() == part['state_dict'].keys()
    for key, value in full['state_dict'].items():
        assert torch.equal(value, part['state_dict'][key]), key
    # The run changed the weights (the test is not vacuous).
    start = load_weights_only(str(runs['full'] / f'iter_{N // 2}.pth'))
    assert any(not torch.equal(v, start['state_dict'][k])
               for k, v in full['state_dict'].items())


def test_resume_gives_same_next_losses(runs):
    full, part = _losses(runs['full']), _losses(runs['part'])
    assert sorted(full) == list(range(1, N + 1))
    assert sorted(part) == list(range(1, N + 1))
    for it in range(N // 2 + 1, N + 1):
        assert part[it] == full[it], f'iteration {it}'


def test_demo_checkpoint_tests_and_draws(runs, tmp_path):
    """``tools/test.py --show-dir`` on the demo config: the IoU/Dice metrics
    of all test tiles, and one picture per ``interval`` tiles, named by fold
    and row."""
    from tools.test import main
    options = _options(runs['data'], 'test', N)
    options += ['default_hooks.visualization.interval=1']
    metrics = main([
        CONFIG,
        str(runs['full'] / f'iter_{N}.pth'), '--work-dir',
        str(tmp_path), '--show-dir',
        str(tmp_path / 'vis')
    ] + options)
    assert {'mIoU', 'mDice', 'aAcc'} <= set(metrics)
    pictures = sorted(p.name for p in (tmp_path / 'vis').rglob('*.png'))
    assert pictures == ['test_fold2_0000_0.png', 'test_fold2_0001_0.png']
