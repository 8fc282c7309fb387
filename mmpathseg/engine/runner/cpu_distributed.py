# Copyright (c) mmpathseg contributors. All rights reserved.
"""Multi-process training on machines without a GPU.

mmengine 0.10.7 assumes CUDA for distributed runs: its ``pytorch`` and
``slurm`` launchers call ``torch.cuda.set_device`` and its default DDP wrapper
passes ``device_ids``. On a CPU machine we create the gloo process group
ourselves before the runner (mmengine then skips ``init_dist``) and wrap the
model without device ids.
"""
import os
import subprocess
from datetime import timedelta

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm

from mmpathseg.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class MMCPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for CPU (gloo) process groups.

    ``SyncBatchNorm`` has no CPU kernel, so its layers are reverted to
    ``BatchNorm`` (statistics are then per process, as in single-GPU runs).
    """

    def __init__(self, module: torch.nn.Module, **kwargs) -> None:
        kwargs.pop('device_ids', None)
        module = revert_sync_batchnorm(module)
        super().__init__(module=module, device_ids=None, **kwargs)


def _slurm_env() -> None:
    """Fill the torch.distributed variables from Slurm's, as mmengine does."""
    node_list = os.environ['SLURM_NODELIST']
    os.environ.setdefault(
        'MASTER_ADDR',
        subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1'))
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']


def _mpi_env() -> None:
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']
    if 'MASTER_ADDR' not in os.environ:
        raise KeyError('The mpi launcher needs MASTER_ADDR (and MASTER_PORT, '
                       'default 29500) in the environment.')
    os.environ.setdefault('MASTER_PORT', '29500')


def prepare_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Set up a gloo process group and a CPU DDP wrapper when there is no GPU.

    Does nothing when ``launcher == 'none'`` or a GPU is present (mmengine's
    own path is used then).

    Args:
        cfg (Config): The full config; ``env_cfg.dist_cfg`` and
            ``model_wrapper_cfg`` are updated in place.
        launcher (str): One of ``'none'``, ``'pytorch'``, ``'slurm'``,
            ``'mpi'``.

    Returns:
        bool: True if a CPU process group was created.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher == 'slurm':
        _slurm_env()
    elif launcher == 'mpi':
        _mpi_env()
    elif launcher != 'pytorch':
        raise ValueError(f'Unknown launcher "{launcher}"; expected one of '
                         'none, pytorch, slurm, mpi.')
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not dist.is_initialized():
        timeout = timedelta(seconds=dist_cfg.get('timeout', 1800))
        dist.init_process_group(backend='gloo', timeout=timeout)
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    if wrapper.get('type', 'MMDistributedDataParallel') == \
            'MMDistributedDataParallel':
        wrapper['type'] = 'MMCPUDistributedDataParallel'
    wrapper.pop('device_ids', None)
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    print_log(
        f'No GPU: rank {dist.get_rank()}/{dist.get_world_size()} uses a gloo '
        'process group and MMCPUDistributedDataParallel.',
        logger='current')
    return True
