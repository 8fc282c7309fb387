# Copyright (c) mmpathseg contributors. All rights reserved.
"""A JSON summary of one image's nuclei: counts and mean area per class."""
import os
from typing import Dict, Optional, Sequence, Union

import numpy as np

from .io import write_json_atomic


def instance_summary(labels: Sequence[int],
                     class_names: Sequence[str],
                     areas: Optional[Sequence[int]] = None,
                     **extra) -> Dict:
    """Per-class counts (every class but background listed, zeros too).

    Args:
        labels (Sequence[int]): Type per instance.
        class_names (Sequence[str]): Names by label (0 background).
        areas (Sequence[int], optional): Pixel area per instance.
        **extra: Added to the summary (e.g. ``image``, ``width``).

    Returns:
        dict: ``num_instances``, ``counts`` ``{name: n}``, and with areas
        ``mean_area_px`` ``{name: mean or None}``.
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    names = list(class_names)
    counts = np.bincount(labels, minlength=len(names))
    summary = dict(extra)
    summary['num_instances'] = int(labels.size)
    summary['counts'] = {
        names[i] if i < len(names) else f'class_{i}': int(counts[i])
        for i in range(len(counts)) if i > 0 or counts[0] > 0
    }
    if areas is not None:
        areas = np.asarray(areas, dtype=np.float64).reshape(-1)
        sums = np.bincount(labels, weights=areas, minlength=len(counts))
        summary['mean_area_px'] = {
            name: (float(sums[i] / counts[i]) if counts[i] else None)
            for i, name in ((i, names[i] if i < len(names) else f'class_{i}')
                            for i in range(len(counts)))
            if i > 0 or counts[0] > 0
        }
    return summary


def write_summary(summary: Dict, path: Union[str, os.PathLike]) -> str:
    """Write a summary dict as indented JSON, atomically."""
    return write_json_atomic(summary, path, indent=2)
