# Copyright (c) mmpathseg contributors. All rights reserved.
"""Compiled kernels (plain C through ctypes) with numpy equivalents."""
from .label_kernels import (BACKENDS, compiled_available, label_areas,
                            label_moments, relabel_pairs,
                            trace_single_contours, use_compiled)

__all__ = [
    'BACKENDS', 'compiled_available', 'use_compiled', 'label_areas',
    'label_moments', 'relabel_pairs', 'trace_single_contours'
]
