# Copyright (c) mmpathseg contributors. All rights reserved.
"""Horizontal/vertical (HV) distance targets of HoVer-Net, CellViT and CellVTA.

The three targets of the nuclei head come from two maps the pipeline already
carries, so only HV gets a key of its own:

- NP (nucleus pixel): ``gt_inst_map > 0``, derived where it is used;
- NC (nucleus class): ``gt_seg_map`` (packed as ``gt_sem_seg``);
- HV: ``gt_hv_map``, made here from ``gt_inst_map``.
"""
import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS


def instance_hv_map(inst_map: np.ndarray,
                    grid_start: int = 1,
                    min_size: int = 0) -> np.ndarray:
    """Horizontal and vertical distance of each pixel to the centre of mass
    of its instance, normalised per instance to [-1, 1].

    For an instance with pixels ``(r, c)`` the centre of mass is rounded half
    up, ``cy = floor(mean(r) + 0.5)`` and ``cx = floor(mean(c) + 0.5)``. The
    raw distances are ``x = c - cx + grid_start`` and ``y = r - cy +
    grid_start``; negative values are divided by the magnitude of the
    instance's most negative value and positive ones by its largest value,
    each axis on its own, so both sides reach exactly -1 and +1 (a side the
    instance does not have stays empty). Background is 0.

    ``grid_start=1`` reproduces CellViT/CellVTA (``gen_instance_hv_map``) and
    HoVer-Net, which build the pixel grid from 1 while the centre of mass is
    counted from 0: the zero of the map lies one pixel left of (and above)
    the rounded centre of mass, a 1-pixel-wide instance gets +1 across its
    width and a single pixel gets (+1, +1). ``grid_start=0`` centres the zero
    on the rounded centre of mass. The reference crops each instance's
    bounding box grown by 2 pixels before computing; that crop does not change
    any value (the offsets cancel) except that the reference skips instances
    whose grown box is under 2x2 pixels, which only happens in images smaller
    than 4 pixels and is not reproduced.

    Computed for all instances at once (one pass over the foreground pixels),
    so the cost does not grow with the number of instances.

    Args:
        inst_map (np.ndarray): (H, W) integer instance ids, 0 = background.
            Ids need not be contiguous. Each id is one instance, even if its
            pixels are not connected.
        grid_start (int): Start of the pixel grid, see above. Defaults to 1
            (CellViT/HoVer-Net).
        min_size (int): Instances with fewer pixels get no HV values (stay 0)
            while remaining nuclei for NP/NC. HoVer-Net uses 30
            (``remove_small_objects``); CellViT/CellVTA 0. Defaults to 0.

    Returns:
        np.ndarray: (2, H, W) float32; channel 0 the horizontal (x) map,
        channel 1 the vertical (y) map, values in [-1, 1].
    """
    inst_map = np.asarray(inst_map)
    if inst_map.ndim != 2 or inst_map.dtype.kind not in 'iub':
        raise ValueError('instance_hv_map expects an (H, W) integer instance '
                         f'map, got shape {inst_map.shape} and dtype '
                         f'{inst_map.dtype}.')
    hv = np.zeros((2, ) + inst_map.shape, np.float32)
    rows, cols = np.nonzero(inst_map)
    if rows.size == 0:
        return hv
    ids = inst_map[rows, cols]
    if ids.min() < 0:
        raise ValueError('instance_hv_map: instance ids must be >= 0 '
                         f'(0 = background), got {ids.min()}.')
    _, inv, counts = np.unique(
        ids, return_inverse=True, return_counts=True)
    if min_size > 0:
        keep = counts[inv] >= min_size
        rows, cols, inv = rows[keep], cols[keep], inv[keep]
        if rows.size == 0:
            return hv
    num = counts.size
    for channel, coords in ((0, cols), (1, rows)):
        mean = np.bincount(inv, weights=coords, minlength=num) / counts
        centre = np.floor(mean + 0.5).astype(np.int64)
        raw = coords.astype(np.int64) - centre[inv] + grid_start
        low = np.zeros(num, np.int64)  # most negative value (or 0)
        high = np.zeros(num, np.int64)  # largest positive value (or 0)
        np.minimum.at(low, inv, raw)
        np.maximum.at(high, inv, raw)
        value = raw.astype(np.float32)
        neg, pos = raw < 0, raw > 0
        value[neg] /= (-low[inv[neg]]).astype(np.float32)
        value[pos] /= high[inv[pos]].astype(np.float32)
        hv[channel, rows, cols] = value
    return hv


@TRANSFORMS.register_module()
class GenerateHVMap(BaseTransform):
    """Make the HV target from the instance map (see
    :func:`instance_hv_map` for the definition and conventions).

    Run it after every geometric transform: a flip or rotation changes the
    meaning of the horizontal/vertical channels, so the geometric transforms
    of this package refuse results that already carry ``gt_hv_map``.

    Required Keys:

    - gt_inst_map (np.ndarray): (H, W) int instance ids, 0 = background.

    Added Keys:

    - gt_hv_map (np.ndarray): (2, H, W) float32 in [-1, 1]; channel 0
      horizontal (x), channel 1 vertical (y).

    Args:
        grid_start (int): 1 reproduces CellViT/CellVTA/HoVer-Net (zero of the
            map one pixel before the rounded centre of mass), 0 centres it.
            Defaults to 1.
        min_size (int): Instances smaller than this get no HV values
            (HoVer-Net: 30; CellViT/CellVTA: 0). Defaults to 0.
    """

    def __init__(self, grid_start: int = 1, min_size: int = 0) -> None:
        if grid_start not in (0, 1):
            raise ValueError('GenerateHVMap: grid_start must be 1 (CellViT/'
                             'HoVer-Net) or 0 (centred), got '
                             f'{grid_start!r}.')
        if min_size < 0:
            raise ValueError('GenerateHVMap: min_size must be >= 0, got '
                             f'{min_size!r}.')
        self.grid_start = grid_start
        self.min_size = min_size

    def transform(self, results: dict) -> dict:
        if 'gt_inst_map' not in results:
            raise KeyError(
                'GenerateHVMap needs `gt_inst_map` in the results (from '
                f'{results.get("seg_map_path", "the annotation loader")}); '
                'load annotations with instances (e.g. '
                '`LoadPanNukeAnnotations(with_inst=True)`) before it.')
        results['gt_hv_map'] = instance_hv_map(
            results['gt_inst_map'], self.grid_start, self.min_size)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(grid_start={self.grid_start}, '
                f'min_size={self.min_size})')
