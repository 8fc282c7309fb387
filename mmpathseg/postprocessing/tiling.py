# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tile grids for sliding-window instance inference, and the CoNIC
"upscale and crop" grid CellVTA uses.

CellVTA's CoNIC inference (``inference_cellvit_upscale.py``) resizes each
256 px 20x tile bilinearly to 480 px (= 2 * (256 - 32) + 32), cuts it into
2 x 2 crops of 256 px with stride 224 (32 px overlap), post-processes each
crop with the 40x settings, merges the crops and brings the result back to
the 256 px grid of the ground truth. :func:`tile_origins` gives the crop
origins (``tile_origins((480, 480), 256, 224)``), :func:`resize_label_map`
the label-preserving resize back.
"""
from typing import List, Sequence, Tuple, Union

import cv2
import numpy as np

IntPair = Union[int, Sequence[int]]


def _pair(value: IntPair, name: str) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f'{name} must be an int or (h, w), got {value}.')
    return value


def tile_origins(image_shape: IntPair, tile_size: IntPair,
                 stride: IntPair) -> List[Tuple[int, int]]:
    """Top-left corners ``(y, x)`` of tiles covering an image, row-major.

    Tiles step by ``stride``; the last tile of a row/column is moved back to
    end at the image border (as mmseg's ``slide_inference``), so every tile
    is full-size when the image is at least one tile large. Smaller images
    get one tile at 0 (the caller pads).

    Args:
        image_shape (int | tuple[int, int]): ``(H, W)``.
        tile_size (int | tuple[int, int]): tile ``(h, w)``.
        stride (int | tuple[int, int]): step ``(sy, sx)``, at most the tile
            size (smaller gives overlap).

    Returns:
        list[tuple[int, int]]: tile origins.
    """
    height, width = _pair(image_shape, 'image_shape')
    tile_h, tile_w = _pair(tile_size, 'tile_size')
    stride_y, stride_x = _pair(stride, 'stride')
    if not (0 < stride_y <= tile_h and 0 < stride_x <= tile_w):
        raise ValueError(f'stride {(stride_y, stride_x)} must be in (0, tile '
                         f'size {(tile_h, tile_w)}] so tiles cover the image.')

    def starts(size, tile, step):
        count = max(size - tile + step - 1, 0) // step + 1
        return sorted({min(i * step, max(size - tile, 0))
                       for i in range(count)})

    return [(y, x) for y in starts(height, tile_h, stride_y)
            for x in starts(width, tile_w, stride_x)]


def resize_label_map(label_map: np.ndarray, shape: IntPair) -> np.ndarray:
    """Resize an instance or type map to ``shape`` without mixing labels.

    Uses ``cv2.INTER_NEAREST_EXACT`` (pixel-centre nearest neighbour), so an
    upscale followed by the matching downscale gives back the original map
    exactly (e.g. 256 -> 480 -> 256).

    Args:
        label_map (np.ndarray): ``(H, W)`` integer labels.
        shape (int | tuple[int, int]): output ``(h, w)``.

    Returns:
        np.ndarray: ``(h, w)`` labels, same dtype.
    """
    out_h, out_w = _pair(shape, 'shape')
    label_map = np.asarray(label_map)
    if label_map.shape == (out_h, out_w):
        return label_map.copy()
    dtype = label_map.dtype
    work = label_map
    if dtype not in (np.uint8, np.uint16, np.int16, np.int32, np.float32):
        if label_map.size and (label_map.max() > np.iinfo(np.int32).max
                               or label_map.min() < 0):
            raise ValueError('resize_label_map supports labels in '
                             '[0, 2**31 - 1].')
        work = label_map.astype(np.int32)
    out = cv2.resize(work, (out_w, out_h),
                     interpolation=cv2.INTER_NEAREST_EXACT)
    return out.astype(dtype, copy=False)
