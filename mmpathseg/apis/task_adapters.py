# Copyright (c) mmpathseg contributors. All rights reserved.
"""Per-task adapters: what the inference API does differently for each
segmentor family.

The inference API (:func:`~mmpathseg.apis.inference_model`,
:class:`~mmpathseg.apis.MMPathSegInferencer`, the large-image path, the
exports and the CLI) is written once. Everything that depends on the task
lives in a small :class:`TaskAdapter` registered for a segmentor class
name:

- which transforms of the config's test pipeline need annotations and are
  dropped at inference (:attr:`TaskAdapter.drop_transforms`);
- how per-image extra inputs (a box/point prompt, a report text, a referring
  expression) enter the pipeline (:meth:`TaskAdapter.add_inputs`);
- how a batch is predicted (:meth:`TaskAdapter.predict_batch`, the
  model's ``test_step`` by default);
- how a predicted data sample becomes a plain result dict
  (:meth:`TaskAdapter.to_result`), how it is drawn
  (:meth:`TaskAdapter.draw`) and written (:meth:`TaskAdapter.export`);
- optionally how one tile of a large image is run
  (:meth:`TaskAdapter.large_image_runner`).

A family plugs in by registering its adapter::

    @register_task_adapter('PromptableSegmentor')
    class PromptAdapter(TaskAdapter):
        task = 'promptable'
        ...

:func:`get_task_adapter` walks the model's class hierarchy (``__mro__``), so
subclasses of a registered segmentor use its adapter and every mmseg
``EncoderDecoder`` falls back to the semantic adapter.
"""
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple, Type)

import numpy as np
import torch.nn as nn

_ADAPTERS: Dict[str, Type['TaskAdapter']] = {}

# Transforms that read or make training targets; never needed at inference.
ANNOTATION_TRANSFORMS = ('LoadAnnotations', 'LoadPanNukeAnnotations',
                         'LoadBiomedicalAnnotation', 'GenerateHVMap',
                         'GenerateEdge')


class TaskAdapter:
    """The task-specific part of the inference API (see the module
    docstring). Subclasses set :attr:`task` and override what differs.

    Args:
        classes (Sequence[str], optional): Class names (index 0 background
            for segmentation tasks), from the model's ``dataset_meta``.
        palette (Sequence[Sequence[int]], optional): RGB colour per class.
        meta (dict, optional): The rest of the model's ``dataset_meta``
            (e.g. ``tissue_types``).
    """

    #: Short name of the task, stored in every result as ``result['task']``.
    task: str = 'base'
    #: Transform types removed from the test pipeline at inference.
    drop_transforms: Sequence[str] = ANNOTATION_TRANSFORMS
    #: Names of the per-image extra inputs :meth:`add_inputs` accepts.
    extra_input_keys: Sequence[str] = ()

    def __init__(self,
                 classes: Optional[Sequence[str]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 meta: Optional[dict] = None) -> None:
        self.meta = dict(meta or {})
        self.classes = tuple(classes) if classes is not None else None
        self.palette = [tuple(int(c) for c in p) for p in palette] \
            if palette is not None else None

    def class_name(self, label: int) -> str:
        """Name of class ``label`` (``'class_<label>'`` without names)."""
        if self.classes is not None and 0 <= label < len(self.classes):
            return str(self.classes[label])
        return f'class_{label}'

    def class_color(self, label: int) -> tuple:
        """RGB colour of class ``label`` (a fixed hash colour without a
        palette)."""
        if self.palette is not None and 0 <= label < len(self.palette):
            return self.palette[label]
        rng = np.random.RandomState(label * 7919 + 17)
        return tuple(int(v) for v in rng.randint(64, 256, size=3))

    def add_inputs(self, data: dict, extra: Optional[dict]) -> dict:
        """Put an image's extra inputs into its pipeline dict before the
        transforms run. The base task takes none.

        Args:
            data (dict): ``img`` / ``img_path`` of the image.
            extra (dict, optional): e.g. ``dict(boxes=...)``, ``dict(text=
                ...)``.

        Returns:
            dict: ``data`` with the extra inputs.
        """
        if extra:
            unknown = sorted(set(extra) - set(self.extra_input_keys))
            if unknown:
                raise ValueError(
                    f'{type(self).__name__} ({self.task}): unknown extra '
                    f'inputs {unknown}; this task takes '
                    f'{list(self.extra_input_keys) or "none"}.')
            data.update(extra)
        return data

    def predict(self, model: nn.Module, batch: dict) -> list:
        """Run ``model`` on a collated batch (``inputs`` and
        ``data_samples`` lists) and return the predicted data samples, in
        order.

        mmseg's data preprocessors stack test images only when they have
        one size, so the batch is cut into runs of consecutive images of
        equal size, each run going through :meth:`predict_batch`.
        """
        inputs, samples = list(batch['inputs']), list(batch['data_samples'])
        out, start = [], 0
        while start < len(inputs):
            stop = start + 1
            while stop < len(inputs) and \
                    inputs[stop].shape == inputs[start].shape:
                stop += 1
            out.extend(
                self.predict_batch(
                    model,
                    dict(inputs=inputs[start:stop],
                         data_samples=samples[start:stop])))
            start = stop
        return out

    def predict_batch(self, model: nn.Module, batch: dict) -> list:
        """Predict images of one size: the model's own ``test_step`` by
        default; tasks whose segmentor predicts only in evaluation form
        (e.g. prompts derived from ground truth) override it."""
        return model.test_step(batch)

    def to_result(self, data_sample) -> dict:
        """Plain result dict of one predicted data sample (numpy arrays,
        lists and numbers; always with ``'task'``)."""
        raise NotImplementedError

    def draw(self, image: np.ndarray, result: dict,
             **kwargs) -> np.ndarray:
        """``(H, W, 3)`` uint8 RGB picture of ``result`` over ``image``."""
        raise NotImplementedError

    def export(self, result: dict, out_dir: str, stem: str,
               formats: Iterable[str]) -> List[str]:
        """Write ``result`` in ``formats`` under ``out_dir`` with file names
        starting with ``stem``; returns the written paths."""
        raise NotImplementedError

    #: Export formats this task writes.
    export_formats: Sequence[str] = ()

    def check_export_formats(self, formats: Iterable[str]) -> List[str]:
        """``formats`` as a list, or a ValueError naming the unknown ones
        and the formats this task writes."""
        formats = list(formats)
        unknown = sorted(set(formats) - set(self.export_formats))
        if unknown:
            raise ValueError(f'{self.task}: unknown export formats {unknown}'
                             f'; available: {list(self.export_formats)}.')
        return formats

    def summary(self, result: dict) -> dict:
        """JSON-ready summary (counts) of one result."""
        return dict(task=self.task)

    def scale_result(self, result: dict, scale: float,
                     shape: Tuple[int, int]) -> dict:
        """The parts of ``result`` :meth:`draw` needs, scaled by ``scale``
        to an image of ``shape`` ``(h, w)`` (thumbnails of large images)."""
        raise NotImplementedError(
            f'{type(self).__name__}: no thumbnail drawing for the '
            f'{self.task!r} task.')

    def large_image_runner(self, model: nn.Module, **kwargs):
        """A :class:`~mmpathseg.apis.large_image.TileRunner` for tiled
        inference on images larger than memory, or raise if the task has
        none."""
        raise NotImplementedError(
            f'{type(self).__name__}: large-image inference is not available '
            f'for the {self.task!r} task.')


def register_task_adapter(*segmentor_names: str
                          ) -> Callable[[Type[TaskAdapter]],
                                        Type[TaskAdapter]]:
    """Class decorator: use this adapter for segmentors of these class
    names (and their subclasses)."""
    if not segmentor_names:
        raise ValueError('register_task_adapter needs segmentor class names.')

    def wrap(cls: Type[TaskAdapter]) -> Type[TaskAdapter]:
        if not (isinstance(cls, type) and issubclass(cls, TaskAdapter)):
            raise TypeError(f'{cls!r} is not a TaskAdapter subclass.')
        for name in segmentor_names:
            if name in _ADAPTERS and _ADAPTERS[name] is not cls:
                raise KeyError(
                    f'A task adapter is already registered for {name!r} '
                    f'({_ADAPTERS[name].__name__}).')
            _ADAPTERS[name] = cls
        return cls

    return wrap


def registered_task_adapters() -> Dict[str, Type[TaskAdapter]]:
    """Segmentor class name -> adapter class (a copy)."""
    _import_builtin_adapters()
    return dict(_ADAPTERS)


def get_task_adapter(model: nn.Module) -> TaskAdapter:
    """The adapter of ``model``'s class or its nearest registered base
    class, built with the model's ``dataset_meta`` classes and palette.

    Raises:
        KeyError: No class in the model's hierarchy has an adapter.
    """
    _import_builtin_adapters()
    for klass in type(model).__mro__:
        if klass.__name__ in _ADAPTERS:
            meta = getattr(model, 'dataset_meta', None) or {}
            return _ADAPTERS[klass.__name__](
                classes=meta.get('classes'),
                palette=meta.get('palette'),
                meta=meta)
    raise KeyError(
        f'No task adapter for {type(model).__name__} (bases: '
        f'{[k.__name__ for k in type(model).__mro__[1:]]}). Register one '
        'with `@mmpathseg.apis.register_task_adapter'
        f"('{type(model).__name__}')`; registered: {sorted(_ADAPTERS)}.")


def _import_builtin_adapters() -> None:
    # Registration happens at import of the adapter modules.
    from . import (cell_adapter, prompt_adapter,  # noqa: F401
                   referring_adapter, semantic_adapter, text_adapter)
