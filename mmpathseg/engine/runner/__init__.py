# Copyright (c) mmpathseg contributors. All rights reserved.
from .cpu_distributed import (MMCPUDistributedDataParallel,
                              prepare_cpu_distributed)

__all__ = ['MMCPUDistributedDataParallel', 'prepare_cpu_distributed']
