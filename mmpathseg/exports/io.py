# Copyright (c) mmpathseg contributors. All rights reserved.
"""Atomic writes: a reader sees the old file or the complete new one, never
a half-written one (temporary file + fsync + rename, see
:func:`mmpathseg.utils.checkpoint.atomic_write`)."""
import json
import os
from typing import Any, Union

import numpy as np

from mmpathseg.utils.checkpoint import atomic_write

PathLike = Union[str, os.PathLike]


def write_bytes_atomic(data: bytes, path: PathLike) -> str:
    """Write ``data`` to ``path`` atomically; returns the path."""
    atomic_write(data, path)
    return os.fspath(path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f'{type(obj).__name__} is not JSON serialisable.')


def write_json_atomic(obj: Any, path: PathLike, indent=None) -> str:
    """Serialise ``obj`` (numpy scalars/arrays allowed) to ``path``
    atomically; returns the path."""
    text = json.dumps(obj, indent=indent, default=_json_default,
                      allow_nan=False)
    return write_bytes_atomic(text.encode('utf-8'), path)
