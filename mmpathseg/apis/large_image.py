# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiled inference on images larger than memory (whole-slide regions of
e.g. 8192 x 8192 px) with bounded memory.

The image is never loaded whole: tiles are read from a region reader
(:mod:`.slide_readers`), normalised by the model's data preprocessor, run in
batches and handed to the task's :class:`TileRunner`, which accumulates them
into the output (a memory-mapped file under ``work_dir`` when given). What
stays in memory is one batch of tiles and the per-instance records, so
memory grows with the output only, not with the image.

The tile grid is :func:`mmpathseg.postprocessing.tile_origins` (the last
tile of a row/column is moved back to end at the border); the nuclei runner
merges the tile instances with
:class:`~mmpathseg.postprocessing.InstanceTileMerger`, so a nucleus that
crosses a seam comes out once and whole when the overlap exceeds the
largest nucleus.
"""
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.utils import ProgressBar

from mmpathseg.postprocessing import tile_origins
from .slide_readers import open_image
from .task_adapters import get_task_adapter

Origin = Tuple[int, int]


class TileRunner:
    """Accumulates the predictions of tiles into an image-level result.

    Args:
        model (nn.Module): The segmentor.
        image_shape (tuple[int, int]): ``(H, W)`` of the image.
        tile_size (tuple[int, int]): ``(h, w)`` of the tiles.
        overlap (tuple[int, int]): Pixels shared by neighbouring tiles.
        work_dir (str, optional): Where to memory-map image-sized outputs;
            in memory when None.
    """

    def __init__(self, model: nn.Module, image_shape: Tuple[int, int],
                 tile_size: Tuple[int, int], overlap: Tuple[int, int],
                 work_dir: Optional[str] = None) -> None:
        self.model = model
        self.image_shape = tuple(int(v) for v in image_shape)
        self.tile_size = tuple(tile_size)
        self.overlap = tuple(overlap)
        self.work_dir = work_dir

    def image_array(self, name: str, dtype) -> np.ndarray:
        """A zero ``(H, W)`` output array, memory-mapped under ``work_dir``
        (``{name}.npy``) when set."""
        if self.work_dir is None:
            return np.zeros(self.image_shape, dtype=dtype)
        os.makedirs(self.work_dir, exist_ok=True)
        return np.lib.format.open_memmap(
            osp.join(self.work_dir, f'{name}.npy'),
            mode='w+',
            dtype=dtype,
            shape=self.image_shape)

    def add_batch(self, inputs: torch.Tensor, origins: Sequence[Origin],
                  valid: Sequence[Tuple[int, int]]) -> None:
        """Run and accumulate a batch of tiles.

        Args:
            inputs (Tensor): ``(N, 3, h, w)`` normalised tiles (padded to
                the tile size at the image border).
            origins (Sequence[tuple]): ``(y, x)`` of every tile.
            valid (Sequence[tuple]): ``(h, w)`` of every tile inside the
                image.
        """
        raise NotImplementedError

    def result(self) -> dict:
        """The image-level result dict of the task."""
        raise NotImplementedError


def thumbnail(image, max_side: int = 2048,
              strip: int = 1024) -> Tuple[np.ndarray, float]:
    """A downscaled RGB copy of a large image, read in strips of ``strip``
    rows (never the whole image at full resolution).

    Returns:
        tuple: ``(thumb (h, w, 3) uint8, scale)`` with ``scale = h / H``.
    """
    import cv2
    reader = open_image(image)
    height, width = reader.shape
    scale = min(1.0, max_side / max(height, width))
    out_h = max(int(round(height * scale)), 1)
    out_w = max(int(round(width * scale)), 1)
    rows = []
    for y in range(0, height, strip):
        part = reader.read(y, 0, min(strip, height - y), width)
        h = max(int(round((y + part.shape[0]) * scale)) -
                int(round(y * scale)), 0)
        if h:
            rows.append(
                cv2.resize(part, (out_w, h), interpolation=cv2.INTER_AREA))
    thumb = np.concatenate(rows, axis=0)[:out_h]
    return np.ascontiguousarray(thumb), out_h / height


def _pair(value, name: str) -> Tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f'{name} must be an int or (h, w), got {value}.')
    return value


def default_tile_size(model: nn.Module) -> Tuple[int, int]:
    """The model's ``test_cfg.crop_size`` when set, else 256 x 256."""
    test_cfg = getattr(model, 'test_cfg', None) or {}
    crop = test_cfg.get('crop_size') if hasattr(test_cfg, 'get') else None
    return _pair(crop, 'crop_size') if crop else (256, 256)


def _normalise(model: nn.Module, tiles: List[np.ndarray]) -> torch.Tensor:
    """RGB uint8 tiles -> the model's normalised ``(N, 3, h, w)`` batch
    (the preprocessor expects BGR, as ``LoadImageFromFile`` gives)."""
    device = next(model.parameters()).device
    inputs = [
        torch.from_numpy(np.ascontiguousarray(t[..., ::-1].transpose(
            2, 0, 1))).to(device) for t in tiles
    ]
    data = model.data_preprocessor(dict(inputs=inputs), False)
    return data['inputs']


@torch.no_grad()
def infer_large_image(model: nn.Module,
                      image,
                      tile_size: Optional[Union[int, Sequence[int]]] = None,
                      overlap: Union[int, Sequence[int]] = 64,
                      batch_size: int = 4,
                      work_dir: Optional[str] = None,
                      progress: bool = True,
                      **runner_kwargs) -> dict:
    """Tiled inference over a large image with bounded memory.

    Args:
        model (nn.Module): From :func:`~mmpathseg.apis.init_model`.
        image (str | np.ndarray | reader): A path (``.npy``, TIFF, a
            whole-slide file, an image), an ``(H, W, 3)`` RGB array or a
            region reader (:func:`~mmpathseg.apis.open_image`).
        tile_size (int | tuple, optional): Tile ``(h, w)``, multiples of the
            network's divisor (16); the model's ``test_cfg.crop_size`` or
            256 when None.
        overlap (int | tuple): Pixels shared by neighbouring tiles; must
            exceed the largest nucleus for seam-free merging. Defaults to
            64.
        batch_size (int): Tiles per forward. Defaults to 4.
        work_dir (str, optional): Memory-map the image-sized outputs there
            (for outputs that do not fit in memory).
        progress (bool): Show a progress bar (stderr). Defaults to True.
        **runner_kwargs: Passed to the task's tile runner (e.g.
            ``dup_thresh`` for nuclei).

    Returns:
        dict: The task's result (see its adapter), with ``height``,
        ``width``, ``tile_size``, ``overlap`` and ``num_tiles``.
    """
    reader = open_image(image)
    height, width = reader.shape
    tile = _pair(tile_size, 'tile_size') if tile_size is not None \
        else default_tile_size(model)
    overlap = _pair(overlap, 'overlap')
    if not all(0 <= o < t for o, t in zip(overlap, tile)):
        raise ValueError(f'infer_large_image: overlap {overlap} must be in '
                         f'[0, tile size {tile}).')
    stride = (tile[0] - overlap[0], tile[1] - overlap[1])
    runner = get_task_adapter(model).large_image_runner(
        model,
        image_shape=(height, width),
        tile_size=tile,
        overlap=overlap,
        work_dir=work_dir,
        **runner_kwargs)
    origins = tile_origins((height, width), tile, stride)
    bar = ProgressBar(len(origins), file=sys.stderr) if progress else None
    for start in range(0, len(origins), batch_size):
        chunk = origins[start:start + batch_size]
        tiles, valid = [], []
        for y, x in chunk:
            region = reader.read(y, x, tile[0], tile[1])
            valid.append(region.shape[:2])
            if region.shape[:2] != tile:  # image smaller than a tile
                region = np.pad(region, ((0, tile[0] - region.shape[0]),
                                         (0, tile[1] - region.shape[1]),
                                         (0, 0)))
            tiles.append(region)
        runner.add_batch(_normalise(model, tiles), chunk, valid)
        if bar is not None:
            for _ in chunk:
                bar.update()
    if bar is not None:
        sys.stderr.write('\n')
    result = runner.result()
    result.update(
        height=height,
        width=width,
        tile_size=list(tile),
        overlap=list(overlap),
        num_tiles=len(origins))
    return result


