# Copyright (c) mmpathseg contributors. All rights reserved.
"""Consistency checks of a nucleus instance map and its type map.

Every nuclei loader (CoNIC rows, per-image ``.npz`` labels, converters) runs
:func:`check_nuclei_maps` on each sample it reads. The checks are whole-array
numpy operations (a scatter and a gather of the instance map, no loop over
instances), about a millisecond for a 256 px tile, so they can stay on while
training; loaders take ``validate=False`` to skip them.

The conventions checked (shared by every nuclei dataset of mmpathseg):

- ``inst_map`` (H, W): 0 background, each nucleus one positive id;
- ``type_map`` (H, W): 0 background, 1..C the nucleus class;
- each instance has exactly one non-zero type over all its pixels;
- ``type_map > 0`` exactly where ``inst_map > 0``.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

__all__ = ['check_nuclei_maps', 'as_label_map']

_INT32_MAX = np.iinfo(np.int32).max
# Instance ids above this are compacted with np.unique first.
_DENSE_ID_LIMIT = 1 << 22


def _first_pixel(mask: np.ndarray) -> Tuple[int, int]:
    """(y, x) of the first True pixel in raster order."""
    flat = int(np.argmax(mask.reshape(-1)))
    return divmod(flat, mask.shape[1])


def as_label_map(array: np.ndarray, name: str, where: str,
                 max_value: int) -> np.ndarray:
    """Check that ``array`` holds non-negative integers up to ``max_value``
    and return it as an integer array (integer inputs are not copied).

    Args:
        array (np.ndarray): (H, W) labels of any real dtype; floats must hold
            whole numbers.
        name (str): Its name in messages (``'inst_map'``).
        where (str): The file (and index) in messages.
        max_value (int): Largest value allowed.

    Returns:
        np.ndarray: The labels as an integer array.
    """
    array = np.asarray(array)
    kind = array.dtype.kind
    if kind == 'b':
        return array.astype(np.uint8)
    if kind not in 'iuf':
        raise ValueError(f'{where}: {name} must hold integers, got dtype '
                         f'{array.dtype}.')
    if kind == 'f':
        if not np.isfinite(array).all():
            raise ValueError(f'{where}: {name} holds NaN or infinite values.')
        whole = np.floor(array) == array
        if not whole.all():
            y, x = _first_pixel(~whole)
            raise ValueError(f'{where}: {name} must hold whole numbers, got '
                             f'{array[y, x]} at pixel (y={y}, x={x}).')
    if array.size:
        low, high = array.min(), array.max()
        if low < 0 or high > max_value:
            bad = (array < 0) | (array > max_value)
            y, x = _first_pixel(bad)
            raise ValueError(
                f'{where}: {name} values must be within 0..{max_value}, got '
                f'{array[y, x]} at pixel (y={y}, x={x}) ({int(bad.sum())} '
                'pixels out of range).')
    if kind == 'f':
        return array.astype(np.int64)
    return array


def _class_text(value: int, class_names: Optional[Sequence[str]]) -> str:
    if class_names is not None and 0 <= value < len(class_names):
        return f'{value} ({class_names[value]})'
    return str(value)


def check_nuclei_maps(
        inst_map: np.ndarray,
        type_map: np.ndarray,
        where: str,
        num_classes: Optional[int] = None,
        class_names: Optional[Sequence[str]] = None,
        image_shape: Optional[Sequence[int]] = None,
        image_where: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Refuse inconsistent nucleus labels with a message naming the file,
    the pixel and the offending value; return the maps in the shared dtypes.

    Checked, in this order: both maps are (H, W) of the same size, and of
    the image's size when ``image_shape`` is given; values are non-negative
    whole numbers; type ids are within ``0..num_classes``; no instance pixel
    has type 0; no typed pixel lies outside every instance; no instance has
    two different types.

    Args:
        inst_map (np.ndarray): (H, W) instance ids, 0 = background.
        type_map (np.ndarray): (H, W) types, 0 = background, 1..C classes.
        where (str): The label file (and row index) for messages, e.g.
            ``'data/conic/labels.npy[12]'``.
        num_classes (int, optional): C, the number of nucleus classes
            (background excluded). None skips the range check (types must
            then fit in 0..255).
        class_names (Sequence[str], optional): Names of types 0..C (index 0
            background), used in messages.
        image_shape (Sequence[int], optional): (H, W[, 3]) of the image.
        image_where (str, optional): The image file for messages.

    Returns:
        tuple[np.ndarray, np.ndarray]: (H, W) int32 instance map and (H, W)
        uint8 type map.
    """
    inst_map = np.asarray(inst_map)
    type_map = np.asarray(type_map)
    if inst_map.ndim != 2 or type_map.ndim != 2:
        raise ValueError(
            f'{where}: inst_map and type_map must be (H, W) arrays, got '
            f'shapes {inst_map.shape} and {type_map.shape}.')
    if inst_map.shape != type_map.shape:
        raise ValueError(
            f'{where}: inst_map has shape {inst_map.shape} but type_map has '
            f'{type_map.shape}; both must have the image\'s height and width.')
    if image_shape is not None and \
            tuple(image_shape[:2]) != tuple(inst_map.shape):
        raise ValueError(
            f'{where}: label size {tuple(inst_map.shape)} differs from the '
            f'image size {tuple(image_shape[:2])}' +
            (f' of {image_where}' if image_where else '') +
            '; image and label must describe the same pixels.')
    max_type = 255 if num_classes is None else int(num_classes)
    inst = as_label_map(inst_map, 'inst_map', where, _INT32_MAX)
    types = as_label_map(type_map, 'type_map', where, np.iinfo(np.int64).max)
    if types.size and types.max() > max_type:
        y, x = _first_pixel(types > max_type)
        value = int(types[y, x])
        names = '' if class_names is None else \
            f' ({", ".join(f"{i}={n}" for i, n in enumerate(class_names))})'
        raise ValueError(
            f'{where}: type id {value} at pixel (y={y}, x={x}) is outside '
            f'the class list: types must be within 0..{max_type}{names}. '
            'Fix the label file or the dataset\'s `classes`.')

    fg = inst > 0
    typed = types > 0
    if (fg != typed).any():
        untyped = fg & ~typed
        if untyped.any():
            y, x = _first_pixel(untyped)
            raise ValueError(
                f'{where}: instance {int(inst[y, x])} has pixels of type 0 '
                f'(background), first at (y={y}, x={x}) '
                f'({int(untyped.sum())} such pixels); every instance pixel '
                'needs a nucleus type.')
        orphan = typed & ~fg
        y, x = _first_pixel(orphan)
        raise ValueError(
            f'{where}: pixel (y={y}, x={x}) has type '
            f'{_class_text(int(types[y, x]), class_names)} but no instance '
            f'(inst_map 0; {int(orphan.sum())} such pixels); typed pixels '
            'must belong to an instance.')

    if fg.any():
        ids = inst
        if int(inst.max()) > _DENSE_ID_LIMIT:
            ids = np.unique(inst, return_inverse=True)[1].reshape(inst.shape)
        # Scatter each pixel's type to its instance (one of the writes to an
        # id survives), read it back: an instance with two types has pixels
        # that disagree with what survived. Background (id 0) has type 0
        # everywhere after the checks above.
        survivor = np.zeros(int(ids.max()) + 1, types.dtype)
        survivor[ids] = types
        mixed = np.take(survivor, ids) != types
        if mixed.any():
            y1, x1 = _first_pixel(mixed)
            inst_id = int(inst[y1, x1])
            other = (inst == inst_id) & (types != types[y1, x1])
            y2, x2 = _first_pixel(other)
            (y1, x1), (y2, x2) = sorted([(y1, x1), (y2, x2)])
            raise ValueError(
                f'{where}: instance id {inst_id} has two nucleus types: '
                f'{_class_text(int(types[y1, x1]), class_names)} at '
                f'(y={y1}, x={x1}) and '
                f'{_class_text(int(types[y2, x2]), class_names)} at '
                f'(y={y2}, x={x2}). An instance id must not be shared by two '
                'classes; fix the label file (give each nucleus its own id '
                'and one type).')
    return inst.astype(
        np.int32, copy=False), types.astype(
            np.uint8, copy=False)
