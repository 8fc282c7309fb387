# Copyright (c) mmpathseg contributors. All rights reserved.
"""Multi-process training and testing on the CPU, end to end.

``tools/dist_train.sh CONFIG 2`` starts two torchrun workers that train a tiny
UNet over gloo; probes from ``tests/data/dist_probe.py`` (loaded with
``custom_imports``) record what each rank saw. In-process tests cover the
same code paths with a one-process group, and ``FlexibleRunner`` configs.
"""
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / 'tests' / 'data'
TINY_CONFIG = DATA_DIR / 'configs' / 'tiny_unet.py'
TINY_FLEXIBLE_CONFIG = DATA_DIR / 'configs' / 'tiny_unet_flexible.py'
NUM_TRAIN, NUM_VAL = 6, 5  # an odd val set: the sampler pads one sample


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _write_config(path: Path,
                  base: Path,
                  data_root: Path,
                  probe_dir: Path = None) -> Path:
    """A child of ``base`` that reads ``data_root`` (and adds the probes)."""
    text = (
        f'_base_ = [{str(base)!r}]\n'
        f'data_root = {str(data_root)!r}\n'
        'train_dataloader = dict(dataset=dict(data_root=data_root))\n'
        'val_dataloader = dict(dataset=dict(data_root=data_root))\n'
        'test_dataloader = val_dataloader\n')
    if probe_dir is not None:
        text += (
            "custom_imports = dict(imports=['dist_probe'], "
            'allow_failed_imports=False)\n'
            f"custom_hooks = [dict(type='DistProbeHook', "
            f'out_dir={str(probe_dir)!r})]\n'
            "val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU']), "
            "dict(type='DistProbeMetric')]\n"
            'test_evaluator = val_evaluator\n')
    path.write_text(text)
    return path


def _run(cmd, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a launcher script; on timeout kill torchrun and its workers."""
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        PORT=str(_free_port()),
        MASTER_ADDR='127.0.0.1',
        NNODES='1',
        NODE_RANK='0',
        # The scripts prepend the repo root; the probes live in tests/data.
        PYTHONPATH=str(DATA_DIR))
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f'{cmd} timed out after {timeout} s\n{out[-3000:]}\n'
                    f'{err[-3000:]}')
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    assert result.returncode == 0, (
        f'{cmd} exited with {result.returncode}\nstdout:\n{out[-4000:]}\n'
        f'stderr:\n{err[-6000:]}')
    return result


@pytest.fixture
def tiny_data(tmp_path, monkeypatch) -> Path:
    monkeypatch.syspath_prepend(str(DATA_DIR))
    from tiny_seg_dataset import make_tiny_seg_dataset
    return make_tiny_seg_dataset(
        tmp_path / 'data', num_train=NUM_TRAIN, num_val=NUM_VAL)


@pytest.fixture
def clean_env():
    """Restore ``os.environ`` and drop any process group afterwards."""
    saved = dict(os.environ)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()
    os.environ.clear()
    os.environ.update(saved)


def _scalars(work_dir: Path) -> list:
    files = list(work_dir.rglob('scalars.json'))
    assert len(files) == 1, files
    return [json.loads(line) for line in files[0].read_text().splitlines()]


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the CPU (gloo) code path')
def test_dist_train_and_test_two_cpu_processes(tmp_path, tiny_data):
    probe_dir = tmp_path / 'probe'
    probe_dir.mkdir()
    config = _write_config(tmp_path / 'tiny_dist.py', TINY_CONFIG, tiny_data,
                           probe_dir)
    work_dir = tmp_path / 'work_dir'

    # cwd=tmp_path: mmengine's collect_results_cpu leaves `.dist_test/` in
    # the working directory.
    result = _run([
        'bash',
        str(REPO_ROOT / 'tools' / 'dist_train.sh'),
        str(config), '2', '--work-dir',
        str(work_dir)
    ],
                  cwd=tmp_path)
    assert 'uses a gloo process group' in result.stdout + result.stderr

    # Both ranks trained, in one gloo group, with the CPU wrapper.
    ranks = [
        json.loads((probe_dir / f'rank{r}.json').read_text()) for r in (0, 1)
    ]
    for rank, record in enumerate(ranks):
        assert record['rank'] == rank
        assert record['world_size'] == 2
        assert record['backend'] == 'gloo'
        assert record['wrapper'] == 'MMCPUDistributedDataParallel'
        assert record['device_ids'] is None
        assert record['num_sync_bn'] == 0  # the config asks for SyncBN
        assert [it['iter'] for it in record['iters']] == [0, 1, 2, 3]
    for it0, it1 in zip(ranks[0]['iters'], ranks[1]['iters']):
        # Each rank reads its own shard of every global batch ...
        assert len(it0['samples']) == len(it1['samples']) == 2
        assert not set(it0['samples']) & set(it1['samples'])
        # ... and DDP's gradient all-reduce keeps the parameters identical.
        assert it0['param_sha1'] == it1['param_sha1']
    assert ranks[0]['iters'][0]['param_sha1'] != \
        ranks[0]['iters'][-1]['param_sha1']

    # Validation ran twice; the metric saw every val sample exactly once,
    # gathered from both ranks' shards (the padded duplicate dropped), and
    # every rank received rank 0's result.
    expected = {
        'probe/num_samples': NUM_VAL,
        'probe/num_unique': NUM_VAL,
        'probe/from_rank0': (NUM_VAL + 1) // 2,
        'probe/from_rank1': NUM_VAL // 2,
    }
    for record in ranks:
        assert len(record['val']) == 2
        for metrics in record['val']:
            assert {k: metrics[k] for k in expected} == expected
            assert 'mIoU' in metrics
    assert ranks[0]['val'] == ranks[1]['val']

    # One set of outputs, written by rank 0.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        'iter_2.pth', 'iter_4.pth'
    ]
    assert (work_dir / 'last_checkpoint').is_file()
    logs = list(work_dir.rglob('*.log'))
    assert len(logs) == 1, logs
    assert not [p for p in work_dir.rglob('*') if 'rank' in p.name]
    timestamp_dirs = [p for p in work_dir.iterdir() if p.is_dir()]
    assert len(timestamp_dirs) == 1, timestamp_dirs
    val_rows = [
        row for row in _scalars(work_dir) if 'probe/num_samples' in row
    ]
    assert [row['probe/num_samples'] for row in val_rows] == [NUM_VAL] * 2
    assert not (work_dir / '.dist_test').exists()

    # The checkpoint tests in two processes as well, with the same gather.
    for path in probe_dir.iterdir():
        path.unlink()
    test_dir = tmp_path / 'test_dir'
    result = _run([
        'bash',
        str(REPO_ROOT / 'tools' / 'dist_test.sh'),
        str(config),
        str(work_dir / 'iter_4.pth'), '2', '--work-dir',
        str(test_dir)
    ],
                  cwd=tmp_path)
    for rank in (0, 1):
        record = json.loads((probe_dir / f'rank{rank}.json').read_text())
        assert record['world_size'] == 2
        assert record['wrapper'] == 'MMCPUDistributedDataParallel'
        assert {k: record['test'][k] for k in expected} == expected
    logs = list(test_dir.rglob('*.log'))
    assert len(logs) == 1, logs
    assert f'probe/num_samples: {NUM_VAL}' in logs[0].read_text()


def _train_in_process(argv, name: str):
    """``tools/train.py`` in this process, 2 iterations.

    Visualizers are per-name singletons and default_runtime.py names its
    ``'visualizer'``: give each run its own, or it would log into the work
    dir of the first run in this process.
    """
    from tools.train import main
    main(argv + [
        '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        f'experiment_name={name}', f'visualizer.name={name}'
    ])


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the CPU (gloo) code path')
@pytest.mark.parametrize(
    'config', [TINY_CONFIG, TINY_FLEXIBLE_CONFIG],
    ids=['Runner', 'FlexibleRunner'])
def test_train_launcher_pytorch_one_process(tmp_path, tiny_data, clean_env,
                                            config):
    """``--launcher pytorch`` as torchrun would start one worker."""
    probe_dir = tmp_path / 'probe'
    probe_dir.mkdir()
    config = _write_config(tmp_path / f'one_{config.name}', config, tiny_data,
                           probe_dir)
    os.environ.update(
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(_free_port()))
    work_dir = tmp_path / 'work_dir'
    _train_in_process(
        [str(config), '--launcher', 'pytorch', '--work-dir',
         str(work_dir)], tmp_path.name)
    record = json.loads((probe_dir / 'rank0.json').read_text())
    assert record['world_size'] == 1
    assert record['backend'] == 'gloo'
    assert record['wrapper'] == 'MMCPUDistributedDataParallel'
    assert record['num_sync_bn'] == 0
    assert record['val'][-1]['probe/num_samples'] == NUM_VAL
    assert (work_dir / 'iter_2.pth').is_file()


def test_flexible_runner_single_device(tmp_path, tiny_data, clean_env):
    """A FlexibleRunner config without a strategy goes through train.py."""
    config = _write_config(tmp_path / 'flexible.py', TINY_FLEXIBLE_CONFIG,
                           tiny_data)
    work_dir = tmp_path / 'work_dir'
    _train_in_process(
        [str(config), '--work-dir', str(work_dir)], tmp_path.name)
    assert not dist.is_initialized()
    assert (work_dir / 'iter_2.pth').is_file()
    rows = _scalars(work_dir)
    assert any('mIoU' in row for row in rows)
    assert any('loss' in row for row in rows)


# ------------------------------------------- the launcher scripts' commands


def _fake_command(bin_dir: Path, name: str) -> Path:
    """An executable that prints PYTHONPATH and then one argument a line."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text('#!/usr/bin/env bash\n'
                    'echo "PYTHONPATH=$PYTHONPATH"\n'
                    'printf "%s\\n" "$@"\n')
    path.chmod(0o755)
    return path


def _script(name: str, args, env: dict) -> list:
    result = subprocess.run(
        ['bash', str(REPO_ROOT / 'tools' / name), *args],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize('name', ['dist_train.sh', 'dist_test.sh'])
def test_dist_scripts_run_torchrun(tmp_path, name):
    python = _fake_command(tmp_path / 'bin', 'python')
    env = dict(
        PYTHON=str(python),
        NNODES='2',
        NODE_RANK='1',
        PORT='12345',
        MASTER_ADDR='10.1.2.3',
        PYTHONPATH='/elsewhere')
    args = ['cfg.py', '4', '--work-dir', 'a dir']
    if name == 'dist_test.sh':
        args.insert(1, 'ckpt.pth')
    lines = _script(name, args, env)
    tool = REPO_ROOT / 'tools' / name.replace('dist_', '').replace(
        '.sh', '.py')
    expected = [
        f'PYTHONPATH={REPO_ROOT}:/elsewhere', '-m', 'torch.distributed.run',
        '--nnodes=2', '--node_rank=1', '--master_addr=10.1.2.3',
        '--master_port=12345', '--nproc_per_node=4',
        str(tool), 'cfg.py'
    ] + (['ckpt.pth'] if name == 'dist_test.sh' else
         []) + ['--launcher', 'pytorch', '--work-dir', 'a dir']
    assert lines == expected


def test_dist_train_defaults_and_usage(tmp_path):
    python = _fake_command(tmp_path / 'bin', 'python')
    env = {'PYTHON': str(python)}
    for name in ('NNODES', 'NODE_RANK', 'PORT', 'MASTER_ADDR'):
        env[name] = ''  # empty counts as unset
    lines = _script('dist_train.sh', ['cfg.py', '2'], env)
    assert lines[3:8] == [
        '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--master_port=29500', '--nproc_per_node=2'
    ]
    result = subprocess.run(
        ['bash', str(REPO_ROOT / 'tools' / 'dist_train.sh'), 'cfg.py'],
        capture_output=True,
        text=True)
    assert result.returncode == 2
    assert 'usage:' in result.stderr


def test_slurm_train_command(tmp_path):
    _fake_command(tmp_path / 'bin', 'srun')
    env = dict(
        PATH=f'{tmp_path / "bin"}:{os.environ["PATH"]}',
        GPUS='8',
        GPUS_PER_NODE='4',
        CPUS_PER_TASK='6',
        SRUN_ARGS='--qos=low --time=10',
        PYTHON='py3')
    lines = _script('slurm_train.sh',
                    ['part', 'job', 'cfg.py', 'wd', '--resume'], env)
    assert lines[1:] == [
        '-p', 'part', '--job-name=job', '--gres=gpu:4', '--ntasks-per-node=4',
        '--ntasks=8', '--cpus-per-task=6', '--kill-on-bad-exit=1', '--qos=low',
        '--time=10', 'py3', '-u',
        str(REPO_ROOT / 'tools' / 'train.py'), 'cfg.py', '--work-dir', 'wd',
        '--launcher', 'slurm', '--resume'
    ]
    # WORK_DIR is optional; CPU nodes (GPUS_PER_NODE=0) get no --gres.
    env.update(GPUS_PER_NODE='0', SRUN_ARGS='')
    lines = _script('slurm_train.sh', ['part', 'job', 'cfg.py', '--amp'], env)
    assert not [line for line in lines if 'gres' in line]
    assert lines[-4:] == ['cfg.py', '--launcher', 'slurm', '--amp']


def test_slurm_test_command(tmp_path):
    _fake_command(tmp_path / 'bin', 'srun')
    env = dict(PATH=f'{tmp_path / "bin"}:{os.environ["PATH"]}')
    for name in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS',
                 'PYTHON'):
        env[name] = ''
    lines = _script('slurm_test.sh',
                    ['part', 'job', 'cfg.py', 'ckpt.pth', '--tta'], env)
    assert lines[0] == f'PYTHONPATH={REPO_ROOT}' or lines[0].startswith(
        f'PYTHONPATH={REPO_ROOT}:')
    assert lines[1:] == [
        '-p', 'part', '--job-name=job', '--gres=gpu:4', '--ntasks-per-node=4',
        '--ntasks=4', '--cpus-per-task=5', '--kill-on-bad-exit=1', 'python',
        '-u',
        str(REPO_ROOT / 'tools' / 'test.py'), 'cfg.py', 'ckpt.pth',
        '--launcher', 'slurm', '--tta'
    ]
