# Copyright (c) mmpathseg contributors. All rights reserved.
"""Unit tests of the CPU (gloo) distributed set-up and the CPU DDP wrapper."""
import os
import socket
import subprocess

import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS

from mmpathseg.engine.runner import (MMCPUDistributedDataParallel,
                                     cpu_distributed, cpu_model_wrapper_cfg,
                                     prepare_cpu_distributed, set_dist_env)
from mmpathseg.registry import MODEL_WRAPPERS

DIST_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def clean_env():
    """No launcher variables during the test; environment and process group
    restored afterwards."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name in DIST_VARS or name.startswith(('SLURM_', 'OMPI_')):
            del os.environ[name]
    yield os.environ
    if dist.is_initialized():
        dist.destroy_process_group()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)


@pytest.fixture
def torchrun_env(clean_env):
    """What torchrun sets for a single worker."""
    clean_env.update(
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(_free_port()))
    return clean_env


@pytest.fixture
def gloo_group(torchrun_env):
    dist.init_process_group('gloo')
    yield


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.SyncBatchNorm(4)
        self.head = nn.Sequential(nn.Conv2d(4, 2, 1), nn.SyncBatchNorm(2))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.head(self.bn(self.conv(inputs)))
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return out


# ----------------------------------------------------------- the wrapper


def test_wrapper_registered_for_every_scope():
    # Runner.wrap_model looks types up in mmengine's root registry.
    assert MMENGINE_MODEL_WRAPPERS.get(
        'MMCPUDistributedDataParallel') is MMCPUDistributedDataParallel
    assert MODEL_WRAPPERS.get(
        'MMCPUDistributedDataParallel') is MMCPUDistributedDataParallel


def test_wrapper_reverts_sync_bn_and_drops_device_ids(gloo_group):
    model = ToyModel()
    conv_weight = model.conv.weight
    bn_weight = model.bn.weight
    # As Runner.wrap_model and DDPStrategy build it.
    wrapped = MMENGINE_MODEL_WRAPPERS.build(
        dict(type='MMCPUDistributedDataParallel', broadcast_buffers=False),
        default_args=dict(module=model, device_ids=[0], output_device=0))
    assert isinstance(wrapped, MMCPUDistributedDataParallel)
    assert wrapped.device_ids is None
    assert not [
        m for m in wrapped.modules() if type(m).__name__ == 'SyncBatchNorm'
    ]
    assert isinstance(wrapped.module.bn, nn.modules.batchnorm._BatchNorm)
    # Parameters are shared, not copied: an optimizer built before or after
    # wrapping updates the same tensors.
    assert wrapped.module.conv.weight is conv_weight
    assert wrapped.module.bn.weight is bn_weight

    optim_wrapper = OptimWrapper(torch.optim.SGD(wrapped.parameters(), lr=0.1))
    before = conv_weight.detach().clone()
    log_vars = wrapped.train_step(
        dict(inputs=torch.randn(2, 3, 8, 8)), optim_wrapper)
    assert 'loss' in log_vars
    assert not torch.equal(before, conv_weight.detach())
    out = wrapped.val_step(dict(inputs=torch.randn(1, 3, 8, 8)))
    assert out.shape == (1, 2, 8, 8)


# ------------------------------------------------------ the wrapper config


def test_wrapper_cfg_default():
    assert cpu_model_wrapper_cfg(None) == dict(
        type='MMCPUDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=False)
    assert cpu_model_wrapper_cfg(
        None, find_unused_parameters=True)['find_unused_parameters']


def test_wrapper_cfg_keeps_user_keys():
    user = dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=True,
        find_unused_parameters=False,
        static_graph=True,
        device_ids=[0],
        output_device=0)
    wrapper = cpu_model_wrapper_cfg(user, find_unused_parameters=True)
    assert wrapper == dict(
        type='MMCPUDistributedDataParallel',
        broadcast_buffers=True,
        find_unused_parameters=False,  # the wrapper's own value wins
        static_graph=True)
    assert user['type'] == 'MMDistributedDataParallel'  # not mutated


def test_wrapper_cfg_leaves_other_wrappers_alone():
    user = dict(type='MMFullyShardedDataParallel', use_orig_params=True)
    assert cpu_model_wrapper_cfg(user) == user
    # The type may also be given as a class.
    assert cpu_model_wrapper_cfg(
        dict(type=MMCPUDistributedDataParallel, device_ids=[0])) == dict(
            type='MMCPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=False)


# -------------------------------------------------- prepare_cpu_distributed


def _cfg(**kwargs) -> Config:
    base = dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)))
    base.update(kwargs)
    return Config(base)


def test_prepare_noop_without_launcher(clean_env, no_gpu):
    cfg = _cfg()
    assert prepare_cpu_distributed(cfg, 'none') is False
    assert not dist.is_initialized()
    assert 'model_wrapper_cfg' not in cfg
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'


def test_prepare_noop_with_gpu(torchrun_env, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg()
    assert prepare_cpu_distributed(cfg, 'pytorch') is False
    assert not dist.is_initialized()
    assert 'model_wrapper_cfg' not in cfg


def test_prepare_unknown_launcher(clean_env, no_gpu):
    with pytest.raises(ValueError, match='expected one of none, pytorch'):
        prepare_cpu_distributed(_cfg(), 'torchrun')


def test_prepare_pytorch_without_torchrun(clean_env, no_gpu):
    with pytest.raises(KeyError, match='dist_train.sh'):
        prepare_cpu_distributed(_cfg(), 'pytorch')
    assert not dist.is_initialized()


def test_prepare_pytorch_one_process(torchrun_env, no_gpu):
    cfg = _cfg(find_unused_parameters=True)
    assert prepare_cpu_distributed(cfg, 'pytorch') is True
    assert dist.is_initialized()
    assert dist.get_backend() == 'gloo'
    assert dist.get_world_size() == 1
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
    assert cfg.model_wrapper_cfg == dict(
        type='MMCPUDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True)
    # A second call (e.g. test after train in one process) reuses the group.
    cfg2 = _cfg(model_wrapper_cfg=dict(static_graph=True))
    assert prepare_cpu_distributed(cfg2, 'pytorch') is True
    assert cfg2.model_wrapper_cfg.static_graph is True
    assert cfg2.model_wrapper_cfg.type == 'MMCPUDistributedDataParallel'


def test_prepare_slurm_one_process(clean_env, no_gpu):
    clean_env.update(
        SLURM_PROCID='0',
        SLURM_NTASKS='1',
        SLURM_LOCALID='0',
        SLURM_NODELIST='localhost',
        MASTER_ADDR='127.0.0.1')
    port = _free_port()
    cfg = _cfg()
    cfg.env_cfg.dist_cfg.port = port
    assert prepare_cpu_distributed(cfg, 'slurm') is True
    assert dist.get_world_size() == 1
    assert os.environ['MASTER_PORT'] == str(port)
    assert cfg.model_wrapper_cfg.type == 'MMCPUDistributedDataParallel'


def test_prepare_flexible_runner_ddp(torchrun_env, no_gpu):
    cfg = _cfg(runner_type='FlexibleRunner')
    assert prepare_cpu_distributed(cfg, 'pytorch') is True
    assert cfg.strategy == dict(
        type='DDPStrategy',
        model_wrapper=dict(
            type='MMCPUDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=False))
    assert 'model_wrapper_cfg' not in cfg

    cfg = _cfg(
        runner_type='FlexibleRunner',
        strategy=dict(
            type='DDPStrategy',
            sync_bn='torch',
            model_wrapper=dict(find_unused_parameters=True)))
    prepare_cpu_distributed(cfg, 'pytorch')
    assert cfg.strategy.sync_bn == 'torch'
    assert cfg.strategy.model_wrapper == dict(
        type='MMCPUDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=True)


@pytest.mark.parametrize(
    'strategy', ['DeepSpeedStrategy', 'FSDPStrategy', 'ColossalAIStrategy'])
def test_prepare_flexible_runner_refuses_gpu_strategies(
        torchrun_env, no_gpu, strategy):
    cfg = _cfg(runner_type='FlexibleRunner', strategy=dict(type=strategy))
    with pytest.raises(RuntimeError, match=f'{strategy}.*needs CUDA'):
        prepare_cpu_distributed(cfg, 'pytorch')
    assert not dist.is_initialized()


def test_prepare_flexible_runner_without_launcher(clean_env, no_gpu):
    cfg = _cfg(
        runner_type='FlexibleRunner', strategy=dict(type='DeepSpeedStrategy'))
    assert prepare_cpu_distributed(cfg, 'none') is False
    assert cfg.strategy.type == 'DeepSpeedStrategy'


# ------------------------------------------------------------ set_dist_env


def _fake_scontrol(calls, hosts='node1\nnode2\n'):

    def run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout=hosts)

    return run


def test_set_dist_env_slurm(clean_env, monkeypatch):
    calls = []
    monkeypatch.setattr(cpu_distributed.subprocess, 'run',
                        _fake_scontrol(calls))
    clean_env.update(
        SLURM_PROCID='5',
        SLURM_NTASKS='8',
        SLURM_LOCALID='1',
        SLURM_NODELIST='node[1-2]')
    set_dist_env('slurm')
    assert calls == [['scontrol', 'show', 'hostnames', 'node[1-2]']]
    assert {
        k: os.environ[k]
        for k in DIST_VARS
    } == dict(
        RANK='5',
        WORLD_SIZE='8',
        LOCAL_RANK='1',
        MASTER_ADDR='node1',
        MASTER_PORT='29500')


def test_set_dist_env_slurm_keeps_master(clean_env, monkeypatch):
    calls = []
    monkeypatch.setattr(cpu_distributed.subprocess, 'run',
                        _fake_scontrol(calls))
    clean_env.update(
        SLURM_PROCID='0',
        SLURM_NTASKS='2',
        SLURM_LOCALID='0',
        SLURM_NODELIST='node[1-2]',
        MASTER_ADDR='10.0.0.7',
        MASTER_PORT='1234')
    set_dist_env('slurm')
    assert calls == []  # no scontrol when MASTER_ADDR is given
    assert os.environ['MASTER_ADDR'] == '10.0.0.7'
    assert os.environ['MASTER_PORT'] == '1234'
    set_dist_env('slurm', port=4321)  # dist_cfg.port wins, as in mmengine
    assert os.environ['MASTER_PORT'] == '4321'


def test_set_dist_env_slurm_without_scontrol(clean_env, monkeypatch):

    def missing(cmd, **kwargs):
        raise FileNotFoundError(2, 'No such file or directory', cmd[0])

    monkeypatch.setattr(cpu_distributed.subprocess, 'run', missing)
    clean_env.update(
        SLURM_PROCID='0', SLURM_NTASKS='2', SLURM_NODELIST='node[1-2]')
    with pytest.raises(RuntimeError, match='Set MASTER_ADDR'):
        set_dist_env('slurm')


def test_set_dist_env_slurm_outside_srun(clean_env):
    with pytest.raises(KeyError, match='SLURM_PROCID.*slurm_train.sh'):
        set_dist_env('slurm')


def test_set_dist_env_mpi(clean_env):
    clean_env.update(
        OMPI_COMM_WORLD_RANK='3',
        OMPI_COMM_WORLD_SIZE='4',
        OMPI_COMM_WORLD_LOCAL_RANK='1')
    with pytest.raises(KeyError, match='MASTER_ADDR is missing'):
        set_dist_env('mpi')
    clean_env['MASTER_ADDR'] = 'head'
    set_dist_env('mpi')
    assert {
        k: os.environ[k]
        for k in DIST_VARS
    } == dict(
        RANK='3',
        WORLD_SIZE='4',
        LOCAL_RANK='1',
        MASTER_ADDR='head',
        MASTER_PORT='29500')
