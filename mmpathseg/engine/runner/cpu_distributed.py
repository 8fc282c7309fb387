# Copyright (c) mmpathseg contributors. All rights reserved.
"""Multi-process runs on machines without a GPU.

mmengine 0.10.7 assumes CUDA for distributed runs: ``init_dist`` calls
``torch.cuda.set_device`` for the ``pytorch``, ``slurm`` and ``mpi``
launchers, and ``Runner.wrap_model`` / ``DDPStrategy`` pass ``device_ids`` to
the DDP wrapper. :func:`prepare_cpu_distributed` runs before the runner is
built: it derives the ``torch.distributed`` variables from the launcher, makes
the gloo process group itself (mmengine then skips ``init_dist``) and points
the config at :class:`MMCPUDistributedDataParallel`.

On a machine with a GPU, or with ``--launcher none``, it does nothing and
mmengine's own code path is used.
"""
import logging
import os
import subprocess
from datetime import timedelta
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log

from .cpu_ddp import MMCPUDistributedDataParallel

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
_DEFAULT_PORT = '29500'
_DDP_TYPES = ('MMDistributedDataParallel', 'MMCPUDistributedDataParallel')


def _type_name(obj_type) -> str:
    """Name of a config ``type``, given as a string or as a class."""
    if isinstance(obj_type, str):
        return obj_type.rsplit('.', 1)[-1]
    return getattr(obj_type, '__name__', str(obj_type))


def _require_env(launcher: str, names, hint: str) -> None:
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise KeyError(
            f'--launcher {launcher} expects {", ".join(names)} in the '
            f'environment, but {", ".join(missing)} is missing. {hint}')


def _first_slurm_host(node_list: str) -> str:
    """The first host of a Slurm node list, e.g. ``node[1-4]`` -> ``node1``."""
    try:
        out = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                             check=True,
                             capture_output=True,
                             text=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise RuntimeError(
            f'Could not expand SLURM_NODELIST={node_list!r} with `scontrol '
            f'show hostnames` ({err}). Set MASTER_ADDR to the first node of '
            'the job.') from err
    hosts = out.split()
    if not hosts:
        raise RuntimeError(
            f'`scontrol show hostnames {node_list}` printed no host. Set '
            'MASTER_ADDR to the first node of the job.')
    return hosts[0]


def set_dist_env(launcher: str, port: Optional[int] = None) -> None:
    """Fill ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT`` from the launcher's variables, as mmengine's
    ``init_dist`` does.

    - ``pytorch``: torchrun has set them; only checks they are there.
    - ``slurm``: from ``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_LOCALID``
      and ``SLURM_NODELIST`` (first host via ``scontrol``, unless
      ``MASTER_ADDR`` is set).
    - ``mpi``: from ``OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK}``;
      ``MASTER_ADDR`` must be set.

    Args:
        launcher (str): ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        port (int, optional): Master port; overrides ``MASTER_PORT``
            (``env_cfg.dist_cfg.port``, Slurm only, as in mmengine). Defaults
            to None (``MASTER_PORT`` or 29500).
    """
    env = os.environ
    if launcher == 'pytorch':
        _require_env(
            launcher, ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
            'They are set by torchrun: start multi-process runs with '
            '`tools/dist_train.sh CONFIG N` or `tools/dist_test.sh`.')
        env.setdefault('LOCAL_RANK', '0')
    elif launcher == 'slurm':
        _require_env(
            launcher, ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
            'They are set by srun: start with `tools/slurm_train.sh`.')
        if port is not None:
            env['MASTER_PORT'] = str(port)
        env.setdefault('MASTER_PORT', _DEFAULT_PORT)
        if 'MASTER_ADDR' not in env:
            env['MASTER_ADDR'] = _first_slurm_host(env['SLURM_NODELIST'])
        env['WORLD_SIZE'] = env['SLURM_NTASKS']
        env['RANK'] = env['SLURM_PROCID']
        env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
    elif launcher == 'mpi':
        _require_env(launcher, ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
                                'OMPI_COMM_WORLD_LOCAL_RANK', 'MASTER_ADDR'),
                     'Start with `mpirun -x MASTER_ADDR=<first host> ...`.')
        env.setdefault('MASTER_PORT', _DEFAULT_PORT)
        env['WORLD_SIZE'] = env['OMPI_COMM_WORLD_SIZE']
        env['RANK'] = env['OMPI_COMM_WORLD_RANK']
        env['LOCAL_RANK'] = env['OMPI_COMM_WORLD_LOCAL_RANK']
    else:
        raise ValueError(f'Unknown launcher {launcher!r}; expected one of '
                         f'{", ".join(LAUNCHERS[1:])}.')


def cpu_model_wrapper_cfg(wrapper_cfg: Optional[dict],
                          find_unused_parameters: bool = False) -> dict:
    """The model wrapper config for a CPU process group.

    The default wrapper (none, or ``MMDistributedDataParallel``) becomes
    :class:`MMCPUDistributedDataParallel`; every other key of the user's
    config is kept, ``device_ids``/``output_device`` are dropped. Other
    wrapper types are returned unchanged (with a warning): they must handle
    CPU modules themselves.

    Args:
        wrapper_cfg (dict, optional): ``model_wrapper_cfg`` of the config, or
            ``strategy.model_wrapper`` of a ``FlexibleRunner`` config.
        find_unused_parameters (bool): The config's top-level
            ``find_unused_parameters``, used unless ``wrapper_cfg`` sets it
            (mmengine reads it only when there is no ``model_wrapper_cfg``).
            Defaults to False.

    Returns:
        dict: The new wrapper config.
    """
    wrapper = dict(wrapper_cfg or {})
    wrapper_type = wrapper.get('type', 'MMDistributedDataParallel')
    if _type_name(wrapper_type) not in _DDP_TYPES:
        print_log(
            f'model_wrapper type {_type_name(wrapper_type)!r} is kept as is '
            'on this machine without a GPU; it must accept CPU modules '
            '(mmengine passes `device_ids` to DistributedDataParallel '
            'subclasses, which torch rejects for CPU modules).',
            logger='current',
            level=logging.WARNING)
        return wrapper
    wrapper['type'] = MMCPUDistributedDataParallel.__name__
    wrapper.pop('device_ids', None)
    wrapper.pop('output_device', None)
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', find_unused_parameters)
    return wrapper


def _is_flexible_runner(cfg: Config) -> bool:
    runner_type = cfg.get('runner_type')
    if runner_type is None:
        return False
    from mmengine.runner import FlexibleRunner

    from mmpathseg.registry import RUNNERS
    if isinstance(runner_type, str):
        try:
            runner_type = RUNNERS.get(runner_type)
        except RuntimeError:
            runner_type = None
    return isinstance(runner_type, type) and issubclass(
        runner_type, FlexibleRunner)


def _cpu_strategy_cfg(cfg: Config) -> dict:
    """``strategy`` of a ``FlexibleRunner`` config for a CPU process
    group."""
    strategy = dict(cfg.get('strategy') or dict(type='DDPStrategy'))
    strategy_type = _type_name(strategy.get('type', 'DDPStrategy'))
    if strategy_type != 'DDPStrategy':
        where = f'{cfg.filename}: ' if cfg.filename else ''
        raise RuntimeError(
            f'{where}`strategy.type={strategy_type!r}` needs CUDA '
            'GPUs (mmengine sets a CUDA device for it), and this machine has '
            'none. On CPUs, multi-process FlexibleRunner runs use '
            "`strategy=dict(type='DDPStrategy')` (the default when "
            '`strategy` is unset); or run this config with --launcher none.')
    strategy['model_wrapper'] = cpu_model_wrapper_cfg(
        strategy.get('model_wrapper'), cfg.get('find_unused_parameters',
                                               False))
    return strategy


def prepare_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Set up a gloo process group and CPU DDP when there is no GPU.

    Call it after the config is final and before the runner is built, as
    ``tools/train.py`` and ``tools/test.py`` do. It does nothing when
    ``launcher == 'none'`` or CUDA is available.

    Otherwise it

    1. fills the ``torch.distributed`` variables from the launcher
       (:func:`set_dist_env`);
    2. creates the default process group with the gloo backend and
       ``env_cfg.dist_cfg.timeout`` (seconds, default 1800), unless one
       exists; mmengine's runners then skip their CUDA-only ``init_dist``;
    3. sets ``env_cfg.dist_cfg.backend='gloo'`` so the logged environment is
       true;
    4. for ``Runner`` configs, sets ``model_wrapper_cfg`` to
       :class:`MMCPUDistributedDataParallel`, keeping the user's keys
       (:func:`cpu_model_wrapper_cfg`); for ``FlexibleRunner`` configs, does
       the same to ``strategy.model_wrapper`` of a ``DDPStrategy`` and
       refuses GPU-only strategies (DeepSpeed, FSDP, ColossalAI) with a
       clear error.

    Args:
        cfg (Config): The full config, updated in place.
        launcher (str): One of ``'none'``, ``'pytorch'``, ``'slurm'``,
            ``'mpi'``.

    Returns:
        bool: True if the run was set up for CPU processes.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'Unknown launcher {launcher!r}; expected one of '
                         f'{", ".join(LAUNCHERS)}.')
    if launcher == 'none' or torch.cuda.is_available():
        return False

    env_cfg = cfg.get('env_cfg') or {}
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    configured_backend = dist_cfg.pop('backend', 'nccl')
    port = dist_cfg.pop('port', None)
    dist_cfg.pop('init_backend', None)
    timeout = dist_cfg.pop('timeout', 1800)

    # Refuse GPU-only strategies before any process group exists.
    flexible = _is_flexible_runner(cfg)
    if flexible:
        strategy = _cpu_strategy_cfg(cfg)

    set_dist_env(launcher, port)
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo', timeout=timedelta(seconds=timeout), **dist_cfg)

    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg') or {}, backend='gloo')
    cfg.env_cfg = env_cfg
    if flexible:
        cfg.strategy = strategy
        wrapper = strategy['model_wrapper']
    else:
        wrapper = cpu_model_wrapper_cfg(
            cfg.get('model_wrapper_cfg'),
            cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper

    note = '' if configured_backend == 'gloo' else (
        f' (instead of the configured {configured_backend!r})')
    print_log(
        f'No GPU: rank {dist.get_rank()} of {dist.get_world_size()} uses a '
        f'gloo process group{note} and {_type_name(wrapper["type"])}.',
        logger='current')
    return True
