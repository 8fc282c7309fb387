# Copyright (c) mmpathseg contributors. All rights reserved.
"""A DDP model wrapper for CPU (gloo) process groups."""
import logging

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS

from mmpathseg.registry import MODEL_WRAPPERS


def _num_sync_bn(module: nn.Module) -> int:
    # torch's and mmcv's SyncBN share the class name.
    return sum(type(m).__name__ == 'SyncBatchNorm' for m in module.modules())


# ``Runner.wrap_model`` looks the wrapper type up in mmengine's root registry,
# whose ``get`` searches parents but never children: a type registered only
# in mmpathseg's node would not be found there. Registering in both keeps
# ``type='MMCPUDistributedDataParallel'`` working from every scope.
@MODEL_WRAPPERS.register_module()
@MMENGINE_MODEL_WRAPPERS.register_module()
class MMCPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for models that live on the CPU.

    mmengine's ``Runner`` and ``DDPStrategy`` pass
    ``device_ids=[LOCAL_RANK]`` to every ``DistributedDataParallel`` subclass
    they build, and torch refuses device ids for CPU modules. This wrapper
    drops ``device_ids`` and ``output_device`` and otherwise behaves like its
    parent (``train_step``/``val_step``/``test_step``, gradient all-reduce over
    the default process group).

    ``SyncBatchNorm`` (torch's and mmcv's) has no CPU kernel, so such layers
    are reverted to ``BatchNorm``: statistics are then per process, as in a
    single-device run. Running buffers are not broadcast by default
    (``broadcast_buffers=False``, mmengine's default), so each rank keeps its
    own running statistics; checkpoints are written from rank 0.

    Args:
        module (nn.Module): The model to wrap, on the CPU.
        detect_anomalous_params (bool): Log parameters that are not used in
            the loss graph; only for debugging, it is slow. Defaults to False.
        **kwargs: Other arguments of
            :class:`torch.nn.parallel.DistributedDataParallel`, e.g.
            ``broadcast_buffers``, ``find_unused_parameters``,
            ``static_graph``. ``device_ids`` and ``output_device`` are
            ignored.
    """

    def __init__(self,
                 module: nn.Module,
                 detect_anomalous_params: bool = False,
                 **kwargs) -> None:
        kwargs.pop('device_ids', None)
        kwargs.pop('output_device', None)
        num_sync_bn = _num_sync_bn(module)
        if num_sync_bn:
            print_log(
                f'SyncBatchNorm has no CPU kernel: {num_sync_bn} SyncBN '
                'layers are reverted to BatchNorm, so batch statistics are '
                'computed per process.',
                logger='current',
                level=logging.WARNING)
            module = revert_sync_batchnorm(module)
        super().__init__(
            module=module,
            detect_anomalous_params=detect_anomalous_params,
            **kwargs)
