# Copyright (c) mmpathseg contributors. All rights reserved.
"""Region readers for images larger than memory.

A reader has ``shape`` ``(H, W)`` and ``read(y, x, h, w)`` returning the
``(h, w, 3)`` uint8 RGB region (clipped to the image). :func:`open_image`
picks one by file type:

- ``.npy``: ``(H, W, 3)`` uint8 arrays read row by row (:class:`NpyReader`),
  other arrays memory-mapped;
- whole-slide formats (``.svs``, ``.ndpi``, ``.mrxs``, ``.scn``, ``.bif``,
  ``.vms``, ``.vmu``) and any TIFF OpenSlide opens: OpenSlide (level 0),
  when ``openslide-python`` is importable;
- other ``.tif`` / ``.tiff``: tifffile, memory-mapped when the pixels are
  stored uncompressed and contiguous, else through tifffile's zarr store
  when ``zarr`` is importable;
- other images (PNG, JPEG, ...): read whole with OpenCV.

Missing libraries raise an ``ImportError`` that says what to install.
"""
import os
import os.path as osp
from typing import Tuple, Union

import cv2
import numpy as np

WSI_SUFFIXES = ('.svs', '.ndpi', '.mrxs', '.scn', '.bif', '.vms', '.vmu')
TIFF_SUFFIXES = ('.tif', '.tiff')


class ArrayReader:
    """Regions of an in-memory or memory-mapped ``(H, W, 3)`` RGB array.

    Args:
        array (np.ndarray): ``(H, W, 3)`` (or ``(H, W, 4)``, alpha dropped)
            RGB, uint8 or a float array in 0..255.
        name (str): For messages. Defaults to ``'array'``.
    """

    def __init__(self, array: np.ndarray, name: str = 'array') -> None:
        if array.ndim != 3 or array.shape[2] not in (3, 4):
            raise ValueError(f'{name}: expected an (H, W, 3) RGB image, got '
                             f'shape {array.shape}.')
        self.array = array
        self.name = name

    @property
    def shape(self) -> Tuple[int, int]:
        return tuple(int(v) for v in self.array.shape[:2])

    def read(self, y: int, x: int, h: int, w: int) -> np.ndarray:
        region = np.asarray(self.array[y:y + h, x:x + w, :3])
        if region.dtype != np.uint8:
            region = np.clip(np.rint(region), 0, 255).astype(np.uint8)
        return region

    def close(self) -> None:
        pass


class NpyReader:
    """Regions of an ``(H, W, 3)`` uint8 ``.npy`` file, read row by row with
    ``os.pread``: unlike a memory map, pages read once do not stay in the
    process' resident memory, so reading a large image tile by tile keeps
    memory flat. Other dtypes/layouts fall back to a memory map.
    """

    def __init__(self, path: str) -> None:
        self.name = path
        with open(path, 'rb') as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 \
                if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            self.offset = f.tell()
        if fortran or dtype != np.uint8 or len(shape) != 3 or \
                shape[2] not in (3, 4):
            raise ValueError(f'{path}: expected a C-order (H, W, 3) uint8 '
                             f'array, got {dtype} {shape}.')
        self._shape = tuple(int(v) for v in shape)
        self.fd = os.open(path, os.O_RDONLY)

    @property
    def shape(self) -> Tuple[int, int]:
        return self._shape[:2]

    def read(self, y: int, x: int, h: int, w: int) -> np.ndarray:
        height, width, channels = self._shape
        h, w = max(min(h, height - y), 0), max(min(w, width - x), 0)
        out = np.empty((h, w, channels), np.uint8)
        row_bytes = w * channels
        for r in range(h):
            start = self.offset + ((y + r) * width + x) * channels
            out[r] = np.frombuffer(
                os.pread(self.fd, row_bytes, start),
                np.uint8).reshape(w, channels)
        return out[..., :3]

    def close(self) -> None:
        os.close(self.fd)

    def __del__(self) -> None:
        try:
            os.close(self.fd)
        except (OSError, AttributeError):
            pass


class OpenSlideReader:
    """Level-0 regions of a whole-slide image through OpenSlide."""

    def __init__(self, path: str) -> None:
        openslide = _import_openslide(path)
        self.slide = openslide.OpenSlide(path)
        self.name = path

    @property
    def shape(self) -> Tuple[int, int]:
        width, height = self.slide.dimensions
        return int(height), int(width)

    def read(self, y: int, x: int, h: int, w: int) -> np.ndarray:
        height, width = self.shape
        h, w = min(h, height - y), min(w, width - x)
        rgba = np.asarray(self.slide.read_region((x, y), 0, (w, h)))
        return np.ascontiguousarray(rgba[..., :3])

    def close(self) -> None:
        self.slide.close()


def _import_openslide(path: str):
    try:
        import openslide
    except ImportError as err:
        raise ImportError(
            f'Reading {path} needs OpenSlide: `pip install openslide-python '
            'openslide-bin` (or the system libopenslide). Uncompressed TIFF '
            'and .npy regions are read without it.') from err
    return openslide


def _tiff_reader(path: str) -> ArrayReader:
    try:
        import tifffile
    except ImportError as err:
        raise ImportError(f'Reading {path} needs tifffile: `pip install '
                          'tifffile`.') from err
    try:
        array = tifffile.memmap(path, mode='r')
    except ValueError:
        array = None
    if array is None:
        try:
            import zarr
        except ImportError as err:
            raise ImportError(
                f'{path} is a compressed or tiled TIFF: reading its regions '
                'without loading it whole needs `pip install zarr` (tifffile '
                'then reads tiles on demand) or OpenSlide (`pip install '
                'openslide-python openslide-bin`).') from err
        store = tifffile.imread(path, aszarr=True)
        array = zarr.open(store, mode='r')
        if hasattr(array, 'keys') and not hasattr(array, 'shape'):
            array = array['0']  # pyramid: level 0
    return ArrayReader(array, name=path)


def open_image(image: Union[str, os.PathLike, np.ndarray]):
    """A region reader for a path or an ``(H, W, 3)`` RGB array (see the
    module docstring)."""
    if hasattr(image, 'read') and hasattr(image, 'shape') and \
            not isinstance(image, np.ndarray):
        return image  # already a reader
    if isinstance(image, np.ndarray):
        return ArrayReader(image)
    path = os.fspath(image)
    if not osp.isfile(path):
        raise FileNotFoundError(f'open_image: {path} not found.')
    suffix = osp.splitext(path)[1].lower()
    if suffix == '.npy':
        try:
            return NpyReader(path)
        except ValueError:
            return ArrayReader(
                np.load(path, mmap_mode='r', allow_pickle=False), name=path)
    if suffix in WSI_SUFFIXES:
        return OpenSlideReader(path)
    if suffix in TIFF_SUFFIXES:
        try:
            import openslide  # noqa: F401
        except ImportError:
            return _tiff_reader(path)
        try:
            return OpenSlideReader(path)
        except Exception:  # not a format OpenSlide knows
            return _tiff_reader(path)
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise IOError(f'open_image: OpenCV cannot read {path}.')
    return ArrayReader(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), name=path)
