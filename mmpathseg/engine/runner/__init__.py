# Copyright (c) mmpathseg contributors. All rights reserved.
from .cpu_ddp import MMCPUDistributedDataParallel
from .cpu_distributed import (cpu_model_wrapper_cfg, prepare_cpu_distributed,
                              set_dist_env)

__all__ = [
    'MMCPUDistributedDataParallel', 'prepare_cpu_distributed',
    'cpu_model_wrapper_cfg', 'set_dist_env'
]
