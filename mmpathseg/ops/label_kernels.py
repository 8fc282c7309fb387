# Copyright (c) mmpathseg contributors. All rights reserved.
"""Compiled one-pass kernels over label maps (``csrc/label_kernels.c``).

The per-instance properties of a tile (area, centroid, box, type votes) and
the (GT, prediction) overlaps of the metrics are a single raster pass each;
numpy needs a dozen passes and a sort for the same numbers. The C file is
built with the package (``pip install -e .``, or ``python setup.py build_ext
--inplace`` in a checkout) into ``mmpathseg/ops/_label_kernels*.so`` and
loaded with :mod:`ctypes`.

Callers choose a backend: ``'compiled'`` needs the library (an error says how
to build it), ``'numpy'`` never uses it, ``'auto'`` uses it when it is built
and otherwise warns once and runs the numpy code, which gives the same
results.
"""
import ctypes
import glob
import importlib.machinery
import os.path as osp
import warnings
from typing import Dict, Optional

import numpy as np

BACKENDS = ('auto', 'compiled', 'numpy')
_LIB_STEM = '_label_kernels'
_BUILD_HINT = ('build it with `pip install -e .` (or `python setup.py '
               'build_ext --inplace`) in the mmpathseg checkout; it needs a C '
               'compiler')

_lib: Optional[ctypes.CDLL] = None
_load_error: Optional[str] = None
_warned = False


def _find_library() -> Optional[str]:
    here = osp.dirname(osp.abspath(__file__))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        found = sorted(glob.glob(osp.join(here, _LIB_STEM + suffix)))
        if found:
            return found[0]
    return None


def _declare(lib: ctypes.CDLL) -> None:
    i64 = ctypes.c_int64
    ptr = ctypes.c_void_p
    lib.label_moments.argtypes = [ptr, ptr, i64, i64, i64, i64, ptr, ptr,
                                  ptr, ptr, ptr]
    lib.label_moments.restype = i64
    lib.relabel_pairs.argtypes = [ptr, ptr, i64, ptr, i64, ptr, i64, i64,
                                  ptr, ptr, ptr, i64]
    lib.relabel_pairs.restype = i64
    lib.label_areas.argtypes = [ptr, i64, i64, ptr]
    lib.label_areas.restype = i64
    lib.trace_single_contours.argtypes = [ptr, i64, i64, i64, ptr, ptr, ptr,
                                          i64, ptr]
    lib.trace_single_contours.restype = i64


def _load() -> Optional[ctypes.CDLL]:
    global _lib, _load_error
    if _lib is None and _load_error is None:
        path = _find_library()
        if path is None:
            _load_error = (f'the compiled label kernels ({_LIB_STEM}*.so in '
                           f'{osp.dirname(osp.abspath(__file__))}) are not '
                           'built')
        else:
            try:
                lib = ctypes.CDLL(path)
                _declare(lib)
                _lib = lib
            except (OSError, AttributeError) as err:
                _load_error = f'{path} could not be loaded ({err})'
    return _lib


def compiled_available() -> bool:
    """Whether the compiled kernels are built and load."""
    return _load() is not None


def use_compiled(backend: str = 'auto') -> bool:
    """Resolve a ``backend`` argument to "use the compiled kernels or not".

    Args:
        backend (str): ``'auto'``, ``'compiled'`` or ``'numpy'``.

    Returns:
        bool: True for the compiled kernels.

    Raises:
        ValueError: unknown backend.
        RuntimeError: ``'compiled'`` and the kernels are not built.
    """
    global _warned
    if backend not in BACKENDS:
        raise ValueError(
            f'backend must be one of {BACKENDS}, got {backend!r}.')
    if backend == 'numpy':
        return False
    if _load() is not None:
        return True
    if backend == 'compiled':
        raise RuntimeError(f'backend="compiled": {_load_error}; '
                           f'{_BUILD_HINT}.')
    if not _warned:
        _warned = True
        warnings.warn(
            f'mmpathseg: {_load_error}; using the numpy implementation of '
            f'the same algorithms (same results, several times slower). To '
            f'speed up post-processing and metrics, {_BUILD_HINT}.',
            RuntimeWarning, stacklevel=3)
    return False


def _ptr(array: Optional[np.ndarray]) -> Optional[int]:
    return None if array is None else array.ctypes.data


def _check_int32_map(labels: np.ndarray, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f'{name} must hold integers, got {labels.dtype}.')
    if labels.dtype.itemsize >= 4 and labels.dtype != np.int32 and \
            labels.size and (labels.max() > np.iinfo(np.int32).max
                             or labels.min() < np.iinfo(np.int32).min):
        raise ValueError(f'{name} holds values outside int32; relabel it '
                         '(e.g. np.unique(..., return_inverse=True)).')
    labels = np.ascontiguousarray(labels, dtype=np.int32)
    if labels.ndim != 2:
        raise ValueError(f'{name} must be (H, W), got {labels.shape}.')
    return labels


def _raise_at(code: int, shape: tuple, what: str) -> None:
    y, x = np.unravel_index(-code - 1, shape)
    raise ValueError(f'{what} at pixel (row {y}, column {x}).')


# Columns of the block label_moments fills (the order of the C enum).
MOMENT_ROWS = ('area', 'sum_x', 'sum_y', 'min_x', 'min_y', 'max_x', 'max_y',
               'first', 'components')


def label_moments(labels: np.ndarray,
                  max_id: int,
                  types: Optional[np.ndarray] = None,
                  num_types: int = 0) -> Dict[str, np.ndarray]:
    """Per-id area, coordinate sums, box and type votes in one pass.

    Args:
        labels (np.ndarray): ``(H, W)`` int32 label map, ids in
            ``[0, max_id]``, 0 background.
        max_id (int): the largest id (``labels.max()``).
        types (np.ndarray, optional): ``(H, W)`` int32 per-pixel type in
            ``[0, num_types)``.
        num_types (int): number of types counted in ``votes``.

    Returns:
        dict[str, np.ndarray]: int64 arrays indexed by id (``max_id + 1``
        entries; entry 0 is unused): ``area``, ``sum_x``, ``sum_y``,
        ``min_x``, ``min_y``, ``max_x``, ``max_y`` (inclusive; ids without
        pixels keep ``W``, ``H``, -1, -1), ``first`` (flat index of the first
        pixel in raster order, -1 without pixels), ``components`` (number of
        8-connected components) and, with ``types``, ``votes`` of shape
        ``(max_id + 1, num_types)``.
    """
    lib = _load()
    labels = _check_int32_map(labels, 'labels')
    height, width = labels.shape
    # One row per id (the C side touches one cache line per pixel).
    stats = np.zeros((max_id + 1, len(MOMENT_ROWS)), np.int64)
    stats[:, 3], stats[:, 4], stats[:, 5:8] = width, height, -1
    votes = None
    if types is not None:
        types = _check_int32_map(types, 'types')
        if types.shape != labels.shape:
            raise ValueError(f'types {types.shape} and labels '
                             f'{labels.shape} must have the same shape.')
        votes = np.zeros((max_id + 1, num_types), np.int64)
    # Union-find scratch: two rows of provisional labels, and a parent and
    # an owner id per provisional label (at most one per pixel; only the
    # pages used are touched).
    rows = np.empty(2 * width, np.int32)
    parent = np.empty(labels.size, np.int32)
    owner = np.empty(labels.size, np.int32)
    code = lib.label_moments(labels.ctypes.data, _ptr(types), height, width,
                             max_id, num_types, stats.ctypes.data,
                             _ptr(votes), rows.ctypes.data,
                             parent.ctypes.data, owner.ctypes.data)
    if code < 0:
        _raise_at(code, labels.shape,
                  f'an id outside [0, {max_id}] or a type outside '
                  f'[0, {num_types})')
    out = dict(zip(MOMENT_ROWS, stats.T))
    if votes is not None:
        out['votes'] = votes
    return out


def label_areas(labels: np.ndarray, max_id: int) -> np.ndarray:
    """``np.bincount(labels.ravel(), minlength=max_id + 1)`` of an int32
    map, without the conversion to int64 and with a range check.

    Args:
        labels (np.ndarray): ``(H, W)`` int32 label map, ids in
            ``[0, max_id]``.
        max_id (int): the largest id allowed.

    Returns:
        np.ndarray: ``(max_id + 1,)`` int64 pixel counts.
    """
    lib = _load()
    labels = _check_int32_map(labels, 'labels')
    area = np.zeros(max_id + 1, np.int64)
    code = lib.label_areas(labels.ctypes.data, labels.size, max_id,
                           area.ctypes.data)
    if code < 0:
        _raise_at(code, labels.shape, f'an id outside [0, {max_id}]')
    return area


def relabel_pairs(gt: np.ndarray,
                  pred: np.ndarray,
                  gt_lut: np.ndarray,
                  pred_lut: np.ndarray,
                  max_pairs: Optional[int] = None) -> tuple:
    """Relabel two maps through look-up tables and key their overlaps.

    Args:
        gt (np.ndarray): ``(H, W)`` int32 map, ids in ``[0, len(gt_lut))``.
        pred (np.ndarray): ``(H, W)`` int32 map, ids in
            ``[0, len(pred_lut))``.
        gt_lut (np.ndarray): int64 raw id -> compact index (0 = background).
        pred_lut (np.ndarray): the same for ``pred``.
        max_pairs (int, optional): an upper bound of the number of pixels
            foreground in both maps (e.g. the smaller foreground area), to
            size the key buffer; defaults to ``H * W``.

    Returns:
        tuple: ``(gt_compact, pred_compact, keys, stride)``: the two
        ``(H, W)`` int64 compact maps and the ``(K,)`` int64 keys
        ``g * stride + p`` of the pixels where both are foreground, with
        ``stride = pred_lut.max() + 1``.
    """
    lib = _load()
    gt = _check_int32_map(gt, 'gt')
    pred = _check_int32_map(pred, 'pred')
    if gt.shape != pred.shape:
        raise ValueError(f'gt {gt.shape} and pred {pred.shape} differ.')
    gt_lut = np.ascontiguousarray(gt_lut, dtype=np.int64)
    pred_lut = np.ascontiguousarray(pred_lut, dtype=np.int64)
    stride = int(pred_lut.max(initial=0)) + 1
    gt_out = np.empty(gt.shape, np.int64)
    pred_out = np.empty(gt.shape, np.int64)
    keys = np.empty(gt.size if max_pairs is None else max_pairs, np.int64)
    num = lib.relabel_pairs(_ptr(gt), _ptr(pred), gt.size, _ptr(gt_lut),
                            gt_lut.size - 1, _ptr(pred_lut),
                            pred_lut.size - 1, stride, _ptr(gt_out),
                            _ptr(pred_out), _ptr(keys), keys.size)
    if num < 0:
        _raise_at(num, gt.shape, 'an id outside its look-up table (or more '
                  f'overlapping pixels than max_pairs={max_pairs})')
    return gt_out, pred_out, keys[:num], stride


def trace_single_contours(labels: np.ndarray, first: np.ndarray,
                          components: np.ndarray, areas: np.ndarray) -> list:
    """Outer contours, as ``cv2.findContours(mask, RETR_EXTERNAL,
    CHAIN_APPROX_SIMPLE)`` gives them, of the ids that are one 8-connected
    component, traced on the label map itself (no mask per id).

    Args:
        labels (np.ndarray): ``(H, W)`` int32 label map.
        first (np.ndarray): ``(N,)`` flat index of each id's first pixel in
            raster order (``label_moments(...)['first'][ids]``).
        components (np.ndarray): ``(N,)`` their ``label_moments``
            component counts.
        areas (np.ndarray): ``(N,)`` their pixel counts.

    Returns:
        list: N entries, an int32 ``(K, 2)`` (x, y) contour in image
        coordinates, or None for an id made of several components.
    """
    lib = _load()
    labels = _check_int32_map(labels, 'labels')
    first = np.ascontiguousarray(first, dtype=np.int64)
    components = np.ascontiguousarray(components, dtype=np.int64)
    num_ids = first.size
    if num_ids == 0:
        return []
    offsets = np.empty(num_ids + 1, np.int64)
    # A pixel is passed at most 4 times when following an 8-connected
    # border.
    capacity = 4 * int(areas.sum()) + num_ids
    points = np.empty((capacity, 2), np.int32)
    num = lib.trace_single_contours(labels.ctypes.data, labels.shape[0],
                                    labels.shape[1], num_ids,
                                    first.ctypes.data, components.ctypes.data,
                                    points.ctypes.data, capacity,
                                    offsets.ctypes.data)
    if num < 0:
        raise RuntimeError('trace_single_contours: contour buffer overflow.')
    points = points[:num].copy()  # let the spare capacity go
    bounds = offsets.tolist()
    single = (components == 1).tolist()
    return [
        points[bounds[k]:bounds[k + 1]] if one else None
        for k, one in enumerate(single)
    ]
