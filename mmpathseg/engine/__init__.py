# Copyright (c) mmpathseg contributors. All rights reserved.
from .runner import MMCPUDistributedDataParallel, prepare_cpu_distributed

__all__ = ['MMCPUDistributedDataParallel', 'prepare_cpu_distributed']
