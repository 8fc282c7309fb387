# Copyright (c) mmpathseg contributors. All rights reserved.
"""Test (and benchmark) a checkpoint.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR]
        [--show] [--show-dir DIR] [--show-interval N] [--tta]
        [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]

The metrics table is printed by the evaluator at the end of the run.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

# Runnable from a checkout without installing the package.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmpathseg.engine import prepare_cpu_distributed  # noqa: E402
from mmpathseg.utils import registry_hints  # noqa: E402
from mmpathseg.utils.checkpoint import setup_checkpoint_io  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Test (and eval) a model with a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out',
        type=str,
        help='the directory to save the predictions for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. If specified, '
        'it will be automatically saved to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--show-interval',
        type=int,
        default=None,
        help='with --show/--show-dir, draw every N-th test batch (1: every '
        "image); default: the config's default_hooks.visualization.interval "
        '(mmseg: 50)')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, `key=value` pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config, args) -> Config:
    """Turn on the visualization hook for ``--show`` / ``--show-dir``."""
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            f'--show/--show-dir need `default_hooks.visualization` in '
            f'{args.config}, e.g. '
            "`visualization=dict(type='SegVisualizationHook')`.")
    visualization_hook = default_hooks['visualization']
    visualization_hook['draw'] = True
    if getattr(args, 'show_interval', None) is not None:
        if args.show_interval < 1:
            raise ValueError('--show-interval must be >= 1, got '
                             f'{args.show_interval}.')
        visualization_hook['interval'] = args.show_interval
    if args.show:
        visualization_hook['show'] = True
        visualization_hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualizer = cfg.visualizer
        visualizer['save_dir'] = args.show_dir
    return cfg


def build_cfg(args) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: CLI > config > ./work_dirs/<config stem>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        if 'tta_pipeline' not in cfg or 'tta_model' not in cfg:
            raise KeyError(f'--tta needs `tta_pipeline` and `tta_model` in '
                           f'{args.config}.')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    if args.out is not None:
        cfg.test_evaluator = _with_output_dir(cfg.test_evaluator, args.out)
    return cfg


def _with_output_dir(evaluator, out_dir: str):
    """Ask every metric to keep its predictions in ``out_dir``."""
    metrics = evaluator if isinstance(evaluator, list) else [evaluator]
    for metric in metrics:
        metric['output_dir'] = out_dir
        metric['keep_results'] = True
    return evaluator


def main(argv=None):
    args = parse_args(argv)
    setup_checkpoint_io()
    cfg = build_cfg(args)
    prepare_cpu_distributed(cfg, args.launcher)
    with registry_hints():
        if 'runner_type' not in cfg:
            runner = Runner.from_cfg(cfg)
        else:
            from mmengine.registry import RUNNERS
            runner = RUNNERS.build(cfg)
        return runner.test()


if __name__ == '__main__':
    main()
