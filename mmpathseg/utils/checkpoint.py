# Copyright (c) mmpathseg contributors. All rights reserved.
"""Checkpoints you can trust: weights-only loading and atomic saving.

mmengine 0.10.7 loads local checkpoints with a bare ``torch.load`` and saves
them by writing the final file in place. :func:`setup_checkpoint_io` replaces
both, explicitly (nothing happens at import):

* **Loading.** Every local checkpoint load (``load_from``, ``--resume``,
  ``init_cfg=dict(type='Pretrained')``,
  :func:`mmengine.runner.load_checkpoint`) goes through mmengine's
  ``CheckpointLoader`` scheme ``''``, the fallback regex that matches every
  path no other scheme (``http://``, ``s3://``, ``open-mmlab://``, ...)
  claims; a ``file://`` URL lands there too and, as in mmengine, is not
  found. Ours uses ``torch.load(weights_only=True)`` and allows, only for the
  duration of the load, the few extra globals mmengine checkpoints hold
  (:func:`checkpoint_safe_globals`). Anything else raises
  :class:`UnsafeCheckpointError` before the offending object is built.
* **Saving.** mmengine's ``save_checkpoint`` ends in the file backend's
  ``put``; :class:`AtomicLocalBackend` writes to a temporary file in the same
  directory, fsyncs it and renames it over the target, so a process killed
  mid-save leaves the previous file (or no file), never a truncated one.

mmengine's ``CheckpointHook`` writes ``last_checkpoint`` only after the save
returns, so with atomic saves it never names a partial file. It does delete
the oldest checkpoint *before* saving the next one; with ``max_keep_ckpts=1``
a kill during that save leaves ``last_checkpoint`` naming a deleted file.
:class:`AtomicCheckpointHook` saves first, then moves the pointer atomically,
then prunes.
"""
import contextlib
import contextvars
import logging
import os
import os.path as osp
import pickle
import re
import threading
import uuid
from typing import (Any, Callable, Dict, Iterator, List, Optional, Tuple,
                    Union)

import numpy as np
import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio import io as fileio_io
from mmengine.fileio.file_client import FileClient
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader


CONVERT_HINT = (
    'To fix: convert third-party weights once to a plain state dict with the '
    'matching script in `tools/model_converters/` (on a machine you trust). '
    'Only for a file you created yourself and trust completely: load it '
    'inside `with mmpathseg.utils.checkpoint.trust_checkpoint(path):`, which '
    'unpickles it with `weights_only=False` and so runs any code it carries.')

# The statistics HistoryBuffer pickles as `getattr(HistoryBuffer, name)`.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')

# Numeric numpy dtypes whose dtype objects may be rebuilt; no object,
# string or void dtypes.
NUMPY_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                np.float64)

SafeGlobal = Union[Callable, Tuple[Callable, str]]

# Files the user declared trusted, only inside `trust_checkpoint`.
_TRUSTED: contextvars.ContextVar = contextvars.ContextVar(
    'mmpathseg_trusted_checkpoints', default=frozenset())
# torch keeps safe globals in one process-wide set: serialise our windows.
_LOAD_LOCK = threading.RLock()


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds a pickled global outside the allow-list.

    Args:
        filename (str): The refused checkpoint.
        global_name (str): The global torch refused, e.g. ``'builtins.exec'``.
        detail (str): torch's one-line reason. Defaults to ''.
    """

    def __init__(self, filename: str, global_name: str, detail: str = ''):
        self.filename = filename
        self.global_name = global_name
        self.detail = detail
        message = (
            f'Refused to load checkpoint "{filename}": it pickles '
            f'`{global_name}`, which is not in mmpathseg\'s checkpoint '
            'allow-list; unpickling it could run arbitrary code, so it was '
            'not built.\n' + CONVERT_HINT)
        if detail:
            message += f'\n(torch: {detail})'
        super().__init__(message)

    def __reduce__(self):
        # Rebuild from our arguments (e.g. when sent between processes).
        return type(self), (self.filename, self.global_name, self.detail)


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` inside our weights-only loads.

    ``HistoryBuffer.__getstate__`` stores its statistics functions, which
    pickle as ``getattr(HistoryBuffer, 'mean')``. Allowing the real
    ``getattr`` would let a checkpoint reach any attribute of any allowed
    object, so only those four lookups are answered.

    Args:
        obj (Any): The object to look up on; must be ``HistoryBuffer``.
        name (str): One of :data:`HISTORY_BUFFER_STATISTICS`.

    Returns:
        Callable: The unbound ``HistoryBuffer`` method.
    """
    if obj is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    owner = (f'{obj.__module__}.{obj.__qualname__}'
             if hasattr(obj, '__qualname__') else type(obj).__name__)
    raise pickle.UnpicklingError(
        f'call builtins.getattr({owner}, {name!r}) is not allowed')


def _numpy_reconstructors() -> List[Tuple[Callable, str]]:
    """numpy's array and scalar rebuilders under both module names.

    numpy 2 pickles ``numpy._core.multiarray``; numpy 1 files (e.g. mmseg
    model-zoo checkpoints) name ``numpy.core.multiarray``. Both names map to
    the same two functions.
    """
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    entries = []
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        entries.append((multiarray._reconstruct, f'{module}._reconstruct'))
        entries.append((multiarray.scalar, f'{module}.scalar'))
    return entries


def checkpoint_safe_globals() -> List[SafeGlobal]:
    """The globals our weights-only loads allow beyond torch's defaults.

    What mmengine 0.10.7 runner checkpoints contain (message hub, numpy
    arrays and scalars); optimizer, scheduler and model states need nothing
    beyond torch's defaults. A tiny run's checkpoint uses the float64 and
    int64 dtype classes; the other numeric ones are allowed too because
    metrics and hooks may log float32/int32 numpy scalars.

    Returns:
        list: Entries for :func:`torch.serialization.safe_globals`; a tuple
        ``(callable, name)`` serves ``callable`` for the pickled ``name``.
    """
    return [
        # MessageHub.log_scalars values (train/loss, train/lr, ...).
        HistoryBuffer,
        # Its statistics methods, pickled through getattr.
        (_history_buffer_getattr, 'builtins.getattr'),
        # HistoryBuffer histories are ndarrays; runtime_info holds numpy
        # scalars (e.g. `eta`, best scores).
        np.ndarray,
        np.dtype,
        *{type(np.dtype(t)) for t in NUMPY_DTYPES},
        *_numpy_reconstructors(),
    ]


@contextlib.contextmanager
def _scoped_safe_globals() -> Iterator[None]:
    """Allow :func:`checkpoint_safe_globals` for the enclosed loads only.

    torch's ``safe_globals`` removes its entries on exit even when the user
    had added them before, so only the ones not yet present are added.
    """
    with _LOAD_LOCK:
        present = set(torch.serialization.get_safe_globals())
        missing = [g for g in checkpoint_safe_globals() if g not in present]
        with torch.serialization.safe_globals(missing):
            yield


# What torch's weights-only unpickler says when it refuses, and where the
# global's name sits in it.
_REFUSAL_PATTERNS = (
    r'GLOBAL (\S+) was not an allowed global',
    r'unsupported GLOBAL (\S+) whose module',
    r'call (builtins\.getattr\(.*?\)) is not allowed',
    r"but got <class '([^']+)'>",
    r'reduce for unrecognized function (.+?)(?: which belongs|$)',
    r'Unsupported operand (\d+)',
)


def _parse_refusal(message: str) -> Tuple[str, str]:
    """Find the refused global in torch's weights-only error text.

    Args:
        message (str): ``str()`` of the ``UnpicklingError`` from
            ``torch.load(weights_only=True)``.

    Returns:
        tuple[str, str]: The global's dotted name (``builtins.`` restored
        where torch drops it; ``'<unknown>'`` if none is named) and torch's
        one-line reason without its advice to allow-list the global.
    """
    for line in message.splitlines():
        for pattern in _REFUSAL_PATTERNS:
            found = re.search(pattern, line)
            if not found:
                continue
            name = found.group(1).strip()
            if name.isdigit():
                name = f'<pickle opcode {name}>'
            elif name.isidentifier():
                name = f'builtins.{name}'
            reason = line.split('WeightsUnpickler error:')[-1]
            return name, reason.split(' Please use ')[0].strip()
    return '<unknown>', ''


def load_weights_only(filename: str,
                      map_location: Union[str, Callable, None] = None) -> Any:
    """``torch.load`` a local file with ``weights_only=True`` and our list.

    Args:
        filename (str): Local checkpoint path.
        map_location (str | Callable, optional): Same as :func:`torch.load`.
            Defaults to None.

    Returns:
        Any: The unpickled checkpoint, usually a dict.

    Raises:
        UnsafeCheckpointError: The file holds a global outside the list.
    """
    try:
        with _scoped_safe_globals():
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        name, reason = _parse_refusal(str(err))
        raise UnsafeCheckpointError(filename, name, reason) from None


def load_from_local_weights_only(
        filename: str, map_location: Union[str, Callable, None] = None) -> Any:
    """mmengine ``CheckpointLoader`` scheme for local paths.

    Replaces mmengine's ``load_from_local`` (same arguments, same
    ``FileNotFoundError``); mmengine logs it as the ``local_weights_only``
    backend.

    Args:
        filename (str): Local checkpoint path; ``~`` is expanded.
        map_location (str | Callable, optional): Same as :func:`torch.load`.
            Defaults to None.

    Returns:
        Any: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if osp.realpath(filename) in _TRUSTED.get():
        print_log(
            f'Loading {filename} with weights_only=False because it is inside '
            '`trust_checkpoint`: any code it carries runs now.',
            logger='current',
            level=logging.WARNING)
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    return load_weights_only(filename, map_location)


@contextlib.contextmanager
def trust_checkpoint(*filenames: str) -> Iterator[None]:
    """DANGEROUS: fully unpickle the named files within this block.

    For a checkpoint you created yourself that holds objects outside the
    allow-list (for instance from an older toolchain). Unpickling runs any
    code the file carries, so never use it for downloaded files: convert
    those with ``tools/model_converters/``. Only the named files, and only
    loads from this thread inside the ``with`` block, are affected.

    Args:
        *filenames (str): Checkpoint paths to trust.

    Examples:
        >>> with trust_checkpoint('work_dirs/old/iter_100.pth'):
        ...     runner.train()  # resumes from that file
    """
    if not filenames:
        raise ValueError('trust_checkpoint needs at least one checkpoint path')
    paths = frozenset(osp.realpath(osp.expanduser(f)) for f in filenames)
    token = _TRUSTED.set(_TRUSTED.get() | paths)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def _fsync_dir(dirname: str) -> None:
    """Make a rename in ``dirname`` durable (no-op where unsupported)."""
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(data: bytes, filepath: Union[str, os.PathLike]) -> None:
    """Write ``data`` so that ``filepath`` is either old or complete.

    The bytes go to a hidden temporary file next to ``filepath`` (same file
    system), are fsynced, then ``os.replace`` renames it over the target. A
    process killed before the rename leaves at most a stray
    ``.<name>.<pid>.<random>.tmp`` file, never a partial ``filepath``.

    Args:
        data (bytes): The full file content.
        filepath (str | PathLike): Target path; parent dirs are created.
    """
    filepath = os.fspath(filepath)
    dirname = osp.dirname(osp.abspath(filepath))
    os.makedirs(dirname, exist_ok=True)
    tmp = osp.join(
        dirname,
        f'.{osp.basename(filepath)}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp')
    # 0o666 & ~umask: the same mode a plain open() would give.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(dirname)


class AtomicLocalBackend(LocalBackend):
    """mmengine ``LocalBackend`` whose writes are atomic.

    Registered by :func:`setup_checkpoint_io` as the ``'local'`` backend (and
    the deprecated ``FileClient`` ``'disk'`` backend), so
    ``mmengine.runner.save_checkpoint`` and every other ``put``/``put_text``
    on a local path go through :func:`atomic_write`.
    """

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        """Write bytes to ``filepath`` atomically.

        Args:
            obj (bytes): Data to be written.
            filepath (str | PathLike): Path to write data.
        """
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, os.PathLike],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically.

        Args:
            obj (str): Text to be written.
            filepath (str | PathLike): Path to write data.
            encoding (str): The encoding format. Defaults to 'utf-8'.
        """
        atomic_write(obj.encode(encoding), filepath)


def _drop_cached_local_backends() -> None:
    """Forget local backend instances mmengine cached before our setup."""
    cache = fileio_io.backend_instances
    for key, backend in list(cache.items()):
        if isinstance(backend, LocalBackend) and not isinstance(
                backend, AtomicLocalBackend):
            cache.pop(key)


def setup_checkpoint_io() -> None:
    """Make mmengine load local checkpoints safely and save them atomically.

    Call it once before building a runner (``tools/train.py``,
    ``tools/test.py`` and the inference API do). Calling it again is harmless
    and restores our policy if something overrode it. It registers, with
    ``force=True``:

    * :func:`load_from_local_weights_only` as ``CheckpointLoader``'s ``''``
      (local) scheme;
    * :class:`AtomicLocalBackend` as mmengine's ``'local'`` file backend
      (prefix ``''``) and ``FileClient``'s ``'disk'`` backend, dropping
      cached instances of the old ones.

    Backends built before the call (e.g. by an already running
    ``CheckpointHook``) keep writing in place.
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_weights_only, force=True)
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    FileClient.register_backend('disk', AtomicLocalBackend, force=True)
    _drop_cached_local_backends()


def is_checkpoint_io_set_up() -> bool:
    """Whether :func:`setup_checkpoint_io`'s policy is in force.

    Returns:
        bool: True if local loads are weights-only and local writes atomic.
    """
    from mmengine.fileio.backends import backends, prefix_to_backends
    return (CheckpointLoader._get_checkpoint_loader('/any/local.pth') is
            load_from_local_weights_only
            and backends.get('local') is AtomicLocalBackend
            and prefix_to_backends.get('') is AtomicLocalBackend
            and FileClient._backends.get('disk') is AtomicLocalBackend)


class ConversionError(RuntimeError):
    """A file is not a checkpoint a model converter accepts."""


def load_tensor_state_dict(path: str,
                           source_hint: str = '') -> Dict[str, torch.Tensor]:
    """Load a third-party checkpoint as a flat ``name -> tensor`` dict.

    The file is read with ``torch.load(weights_only=True)`` and no allow-list:
    official weights (UNI, SAM) are plain state dicts, so anything else is
    refused. A top-level ``state_dict`` / ``model`` key is unwrapped.

    Args:
        path (str): The checkpoint file.
        source_hint (str): What the user should pass instead, e.g. ``'Use
            the official UNI `pytorch_model.bin`.'``, appended to the error.

    Raises:
        ConversionError: the file pickles Python objects, is not a dict, or
            holds entries that are not tensors.
    """
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err) else ''
        raise ConversionError(
            f'refused {path}: it is not a plain state dict of tensors (it '
            'pickles Python objects that a weights-only load does not '
            f'build: {first}). {source_hint} Never unpickle files you did '
            'not make.') from None
    if isinstance(obj, dict):
        for key in ('state_dict', 'model'):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj:
        raise ConversionError(
            f'refused {path}: expected a dict of tensors, got '
            f'{type(obj).__name__}.')
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ConversionError(
            f'refused {path}: entries {bad[:5]} are not tensors; expected a '
            'plain state dict.')
    return obj
