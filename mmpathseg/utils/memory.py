# Copyright (c) mmpathseg contributors. All rights reserved.
"""Peak memory of the current process, for the benchmark tools.

On Linux the resident-set high-water mark (``VmHWM``) can be reset by
writing ``5`` to ``/proc/self/clear_refs``, so a benchmark measures the
peak of one phase rather than of the whole process; elsewhere the process
lifetime peak (``ru_maxrss``) is reported and :func:`reset_peak_rss` returns
False. CUDA peaks come from ``torch.cuda.max_memory_allocated``.
"""
import resource
import sys

import torch


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS; False where unsupported."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        return False
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    return True


def _status_mb(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def current_rss_mb() -> float:
    """Resident set size now, in MiB (0 where unknown)."""
    try:
        return _status_mb('VmRSS')
    except (OSError, KeyError):
        return 0.0


def peak_rss_mb() -> float:
    """Peak resident set size since the last :func:`reset_peak_rss` (or the
    process start), in MiB."""
    try:
        return _status_mb('VmHWM')
    except (OSError, KeyError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1024 * 1024 if sys.platform == 'darwin' else 1024)


def peak_cuda_mb() -> float:
    """Peak CUDA memory allocated by torch, in MiB (0 without CUDA)."""
    if not torch.cuda.is_available():
        return 0.0
    return torch.cuda.max_memory_allocated() / 2**20
