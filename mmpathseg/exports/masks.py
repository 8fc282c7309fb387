# Copyright (c) mmpathseg contributors. All rights reserved.
"""Label maps as lossless PNG files.

- Type / semantic maps (< 256 classes): 8-bit single-channel PNG, the pixel
  value is the class index.
- Instance maps: 16-bit single-channel PNG while ids fit (< 65536), else a
  24-bit colour PNG with ``id = R * 65536 + G * 256 + B`` (read it back
  with :func:`read_label_png`).
"""
import os
from typing import Dict, Union

import cv2
import numpy as np

from .io import write_bytes_atomic

PathLike = Union[str, os.PathLike]


def write_label_png(label_map: np.ndarray, path: PathLike) -> str:
    """Write an ``(H, W)`` non-negative integer map losslessly; returns the
    path."""
    label_map = np.asarray(label_map)
    if label_map.ndim != 2:
        raise ValueError(f'write_label_png({path}): expected an (H, W) map, '
                         f'got shape {label_map.shape}.')
    top = int(label_map.max(initial=0))
    if label_map.size and int(label_map.min()) < 0:
        raise ValueError(f'write_label_png({path}): labels must be >= 0.')
    if top < 256:
        image = label_map.astype(np.uint8)
    elif top < 65536:
        image = label_map.astype(np.uint16)
    elif top < 1 << 24:
        value = label_map.astype(np.uint32)
        # OpenCV writes BGR: B holds the low byte.
        image = np.stack([value & 255, (value >> 8) & 255,
                          (value >> 16) & 255], axis=-1).astype(np.uint8)
    else:
        raise ValueError(f'write_label_png({path}): ids up to {top} do not '
                         'fit in 24 bits; save the map as .npy instead.')
    ok, buf = cv2.imencode('.png', image)
    if not ok:
        raise IOError(f'write_label_png: PNG encoding failed for {path}.')
    return write_bytes_atomic(buf.tobytes(), path)


def write_binary_mask_png(mask: np.ndarray, path: PathLike) -> str:
    """Write an ``(H, W)`` mask as an 8-bit PNG, 255 inside and 0 outside;
    returns the path."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'write_binary_mask_png({path}): expected an '
                         f'(H, W) mask, got shape {mask.shape}.')
    ok, buf = cv2.imencode('.png', (mask > 0).astype(np.uint8) * 255)
    if not ok:
        raise IOError(f'write_binary_mask_png: PNG encoding failed for '
                      f'{path}.')
    return write_bytes_atomic(buf.tobytes(), path)


def read_label_png(path: PathLike) -> np.ndarray:
    """Read a map written by :func:`write_label_png` as int64."""
    image = cv2.imread(os.fspath(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f'read_label_png: cannot read {path}.')
    if image.ndim == 3:
        image = image.astype(np.int64)
        return image[..., 2] * 65536 + image[..., 1] * 256 + image[..., 0]
    return image.astype(np.int64)


def write_mask_pngs(maps: Dict[str, np.ndarray], out_dir: PathLike,
                    stem: str) -> Dict[str, str]:
    """Write ``{suffix: map}`` as ``out_dir/{stem}_{suffix}.png``."""
    return {
        suffix: write_label_png(value,
                                os.path.join(out_dir, f'{stem}_{suffix}.png'))
        for suffix, value in maps.items()
    }
