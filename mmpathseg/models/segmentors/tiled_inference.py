# Copyright (c) mmpathseg contributors. All rights reserved.
"""Whole-image and sliding-window inference of the HoVer-style branch maps.

A *map function* takes a normalised batch ``(N, 3, h, w)`` and returns the
branch maps of the nuclei head at that size: ``'np'`` ``(N, 2, h, w)`` and
``'nc'`` ``(N, C, h, w)`` softmax probabilities, ``'hv'`` ``(N, 2, h, w)``
raw regression; optionally ``'tissue'`` ``(N, T)`` per-image scores, which
are averaged over the tiles of an image. Two ways to go beyond one crop:

- :func:`slide_maps` averages the maps of overlapping tiles (as mmseg's
  ``slide_inference`` averages logits) and the caller post-processes the
  whole image once;
- :func:`slide_instances` post-processes every tile and merges the tile
  instances with :class:`~mmpathseg.postprocessing.InstanceTileMerger`, as
  CellViT's WSI inference and CellVTA's CoNIC script do (the default of
  :class:`CellInstanceSegmentor`).
"""
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmpathseg.postprocessing import InstanceTileMerger, tile_origins

MapFn = Callable[[Tensor], Dict[str, Tensor]]


def pad_to_multiple(inputs: Tensor, divisor: int) -> Tensor:
    """Zero-pad ``(N, C, H, W)`` at the bottom/right to multiples of
    ``divisor``."""
    height, width = inputs.shape[-2:]
    pad_h = (-height) % divisor
    pad_w = (-width) % divisor
    if pad_h or pad_w:
        inputs = F.pad(inputs, (0, pad_w, 0, pad_h))
    return inputs


def whole_maps(map_fn: MapFn, inputs: Tensor,
               size_divisor: int = 16) -> Dict[str, Tensor]:
    """Maps of the whole images, padded to ``size_divisor`` for the network
    and cropped back.

    Args:
        map_fn (callable): See the module docstring.
        inputs (Tensor): ``(N, 3, H, W)`` normalised images.
        size_divisor (int): Sides the network needs. Defaults to 16.

    Returns:
        dict[str, Tensor]: ``(N, k, H, W)`` maps.
    """
    height, width = inputs.shape[-2:]
    maps = map_fn(pad_to_multiple(inputs, size_divisor))
    return {
        k: v[..., :height, :width] if v.dim() == 4 else v
        for k, v in maps.items()
    }


def _tiles(map_fn: MapFn, inputs: Tensor, crop_size: Tuple[int, int],
           stride: Tuple[int, int], tile_batch: int
           ) -> Iterator[Tuple[List[Tuple[int, int, int]], Dict[str, Tensor]]]:
    """Yield ``([(image index, y, x), ...], maps of those tiles)`` chunks of
    at most ``tile_batch`` tiles, row-major per image."""
    crop_h, crop_w = crop_size
    origins = tile_origins(inputs.shape[-2:], crop_size, stride)
    tiles = [(i, y, x) for i in range(inputs.shape[0]) for y, x in origins]
    for start in range(0, len(tiles), tile_batch):
        chunk = tiles[start:start + tile_batch]
        batch = torch.stack([
            inputs[i, :, y:y + crop_h, x:x + crop_w] for i, y, x in chunk
        ])
        yield chunk, map_fn(batch)


def check_slide_size(inputs: Tensor, crop_size: Sequence[int]) -> bool:
    """Whether sliding windows of ``crop_size`` fit (the image is at least
    one crop large)."""
    return inputs.shape[-2] >= crop_size[0] and \
        inputs.shape[-1] >= crop_size[1]


def slide_maps(map_fn: MapFn,
               inputs: Tensor,
               crop_size: Tuple[int, int],
               stride: Tuple[int, int],
               tile_batch: int = 8) -> Dict[str, Tensor]:
    """Maps of overlapping tiles, averaged where tiles overlap.

    Args:
        map_fn (callable): See the module docstring.
        inputs (Tensor): ``(N, 3, H, W)``, at least one crop large.
        crop_size (tuple[int, int]): Tile ``(h, w)``, multiples of 16.
        stride (tuple[int, int]): Step ``(sy, sx)``.
        tile_batch (int): Tiles per forward. Defaults to 8.

    Returns:
        dict[str, Tensor]: ``(N, k, H, W)`` maps (``(N, T)`` tile-averaged
        vectors).
    """
    crop_h, crop_w = crop_size
    num, _, height, width = inputs.shape
    sums: Dict[str, Tensor] = {}
    count = inputs.new_zeros((num, 1, height, width))
    vectors = _VectorMean(num)
    for chunk, maps in _tiles(map_fn, inputs, crop_size, stride, tile_batch):
        for k, v in maps.items():
            if v.dim() != 4:
                vectors.add(k, v, chunk)
                continue
            if k not in sums:
                sums[k] = v.new_zeros((num, v.shape[1], height, width))
            for j, (i, y, x) in enumerate(chunk):
                sums[k][i, :, y:y + crop_h, x:x + crop_w] += v[j]
        for i, y, x in chunk:
            count[i, :, y:y + crop_h, x:x + crop_w] += 1
    out = {k: v / count for k, v in sums.items()}
    out.update(vectors.result())
    return out


class _VectorMean:
    """Per-image mean over tiles of per-tile vectors such as tissue
    scores."""

    def __init__(self, num: int) -> None:
        self.num = num
        self.sums: Dict[str, Tensor] = {}
        self.counts: Dict[str, Tensor] = {}

    def add(self, key: str, value: Tensor,
            chunk: List[Tuple[int, int, int]]) -> None:
        if key not in self.sums:
            self.sums[key] = value.new_zeros((self.num, ) + value.shape[1:])
            self.counts[key] = value.new_zeros(self.num)
        for j, (i, _, _) in enumerate(chunk):
            self.sums[key][i] += value[j]
            self.counts[key][i] += 1

    def result(self) -> Dict[str, Tensor]:
        return {
            k: v / self.counts[k].view(-1, *([1] * (v.dim() - 1)))
            for k, v in self.sums.items()
        }


def slide_instances(map_fn: MapFn,
                    inputs: Tensor,
                    crop_size: Tuple[int, int],
                    stride: Tuple[int, int],
                    postprocess: Callable[..., Dict],
                    dup_thresh: float = 0.5,
                    tile_batch: int = 8
                    ) -> Tuple[List[InstanceTileMerger], Dict[str, Tensor]]:
    """Post-process every tile and merge the instances per image.

    Args:
        map_fn (callable): See the module docstring.
        inputs (Tensor): ``(N, 3, H, W)``, at least one crop large.
        crop_size (tuple[int, int]): Tile ``(h, w)``, multiples of 16.
        stride (tuple[int, int]): Step ``(sy, sx)``; the overlap should
            exceed the largest nucleus so each one is whole in some tile.
        postprocess (callable): ``(np, hv, nc) -> dict`` with ``inst_map``
            and ``instances`` (``ids``, ``labels``, ``scores``), e.g.
            :class:`~mmpathseg.postprocessing.HoVerNetPostProcessor`.
        dup_thresh (float): Overlap from which two tile instances are the
            same nucleus. Defaults to 0.5.
        tile_batch (int): Tiles per forward. Defaults to 8.

    Returns:
        tuple: one :class:`InstanceTileMerger` per image (call ``result()``)
        and the tile-averaged per-image vectors (e.g. ``'tissue'``).
    """
    height, width = inputs.shape[-2:]
    vectors = _VectorMean(inputs.shape[0])
    mergers = [
        InstanceTileMerger((height, width), dup_thresh=dup_thresh)
        for _ in range(inputs.shape[0])
    ]
    for chunk, maps in _tiles(map_fn, inputs, crop_size, stride, tile_batch):
        for k, v in maps.items():
            if v.dim() != 4:
                vectors.add(k, v, chunk)
        for j, (i, y, x) in enumerate(chunk):
            nc = maps['nc'][j] if 'nc' in maps else None
            res = postprocess(maps['np'][j], maps['hv'][j], nc)
            inst = res['instances']
            mergers[i].add(res['inst_map'], (y, x), inst.ids.numpy(),
                           inst.labels.numpy(), inst.scores.numpy())
    return mergers, vectors.result()
