# Copyright (c) mmpathseg contributors. All rights reserved.
"""``init_model`` / ``inference_model``: a checkpoint to predictions on
images, for every task family (see :mod:`.task_adapters`)."""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmpathseg.utils.checkpoint import setup_checkpoint_io
from .task_adapters import get_task_adapter

ImageType = Union[str, np.ndarray]
FILE_LOADERS = ('LoadImageFromFile', 'LoadImageFromNpy',
                'LoadImageFromNDArray')


def _strip_pretrained(cfg) -> None:
    """No backbone/pretrained weights at inference: the checkpoint has
    them (and nothing may be downloaded)."""
    if isinstance(cfg, dict):
        cfg.pop('pretrained', None)
        init_cfg = cfg.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            cfg['init_cfg'] = None
        for value in cfg.values():
            _strip_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _strip_pretrained(value)


def _dataset_meta(cfg: Config) -> dict:
    """Classes and palette of the config's test dataset, without reading
    its files."""
    from mmpathseg.registry import DATASETS
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    meta = dict(dataset.get('metainfo') or {})
    dataset_type = dataset.get('type')
    if dataset_type is not None and not {'classes', 'palette'} <= set(meta):
        cls = DATASETS.get(dataset_type)
        base = getattr(cls, 'METAINFO', {}) if cls is not None else {}
        meta = {**{k: v for k, v in base.items()}, **meta}
    return meta


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None,
               strict: bool = True) -> nn.Module:
    """Build a segmentor from a config and load a checkpoint.

    Checkpoints are read with ``weights_only=True`` (see
    :func:`mmpathseg.utils.checkpoint.setup_checkpoint_io`); ``pretrained``
    and ``Pretrained`` init configs are dropped, so no other weights are read.

    Args:
        config (str | Config): Config file or object.
        checkpoint (str, optional): Checkpoint; a randomly initialised model
            when None.
        device (str): Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config.
        strict (bool): Fail when the checkpoint's keys or shapes do not
            match the model (a checkpoint of another config). Defaults to
            True.

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` and ``dataset_meta``
        (``classes``, ``palette``, and ``tissue_types`` where the dataset
        has them) set.
    """
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'init_model: config {config} not found.')
        config = Config.fromfile(config)
    elif not isinstance(config, Config):
        raise TypeError('init_model: config must be a path or a Config, got '
                        f'{type(config).__name__}.')
    cfg = copy.deepcopy(config)
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    _strip_pretrained(cfg.model)
    from mmpathseg.registry import MODELS
    model = MODELS.build(cfg.model)
    meta = _dataset_meta(cfg)
    if checkpoint is not None:
        setup_checkpoint_io()
        try:
            ckpt = load_checkpoint(
                model, checkpoint, map_location='cpu', strict=strict)
        except RuntimeError as err:
            raise RuntimeError(
                f'init_model: {checkpoint} does not fit the model of the '
                f'config ({err}). Use the config the checkpoint was trained '
                'with (runs keep a copy in their work dir), or pass '
                'strict=False to load what fits.') from None
        ckpt_meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        if 'dataset_meta' in ckpt_meta:
            meta = {**meta, **ckpt_meta['dataset_meta']}
    model.cfg = cfg
    model.dataset_meta = {
        k: meta[k]
        for k in ('classes', 'palette', 'tissue_types')
        if meta.get(k) is not None
    }
    model.to(device)
    model.eval()
    return model


def inference_pipeline(cfg: Config, model: Optional[nn.Module] = None,
                       from_array: bool = False) -> Compose:
    """The config's test pipeline for images without annotations.

    The first loading transform becomes ``LoadImageFromFile`` (paths) or
    ``LoadImageFromNDArray`` (arrays, BGR like ``cv2.imread``); the
    transforms in the task adapter's ``drop_transforms`` (annotation
    loaders, target makers) are removed.

    Args:
        cfg (Config): The model's config.
        model (nn.Module, optional): Selects the task adapter; the semantic
            one's list when None.
        from_array (bool): Inputs are arrays. Defaults to False.

    Returns:
        Compose: The pipeline.
    """
    from .task_adapters import ANNOTATION_TRANSFORMS
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        pipeline = cfg.get('test_dataloader', {}).get('dataset',
                                                      {}).get('pipeline')
    if not pipeline:
        raise KeyError('inference_pipeline: the config has neither '
                       '`test_pipeline` nor `test_dataloader.dataset.'
                       'pipeline`; add one (loading + packing transforms).')
    drop = get_task_adapter(model).drop_transforms if model is not None \
        else ANNOTATION_TRANSFORMS
    loader = 'LoadImageFromNDArray' if from_array else 'LoadImageFromFile'
    steps, loaded = [], False
    for step in copy.deepcopy(list(pipeline)):
        kind = step.get('type')
        if kind in drop:
            continue
        if kind in FILE_LOADERS or (not loaded and isinstance(kind, str)
                                    and kind.startswith('LoadImage')):
            step = dict(type=loader)
            loaded = True
        steps.append(step)
    if not loaded:
        steps.insert(0, dict(type=loader))
    return Compose(steps)


def _pipeline_input(img: ImageType) -> dict:
    if isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError('inference_model: arrays must be (H, W, 3) BGR '
                             f'images, got shape {img.shape}.')
        return dict(img=img)
    if isinstance(img, str):
        if not osp.isfile(img):
            raise FileNotFoundError(f'inference_model: image {img} not '
                                    'found.')
        return dict(img_path=img)
    raise TypeError('inference_model: images are paths or (H, W, 3) BGR '
                    f'arrays, got {type(img).__name__}.')


@torch.no_grad()
def inference_model(model: nn.Module,
                    img: Union[ImageType, Sequence[ImageType]],
                    extra_inputs: Optional[Union[dict,
                                                 Sequence[dict]]] = None):
    """Predict on one image or a list of images.

    Args:
        model (nn.Module): From :func:`init_model`.
        img (str | np.ndarray | list): Image path(s) or ``(H, W, 3)`` BGR
            array(s).
        extra_inputs (dict | list[dict], optional): Per-image task inputs,
            see the model's task adapter: ``dict(text=...)`` (text-guided),
            ``dict(boxes=..., points=..., point_labels=...)`` (promptable),
            ``dict(expression=...)`` (referring).

    Returns:
        SegDataSample | list[SegDataSample]: The prediction(s), e.g.
        ``pred_instances`` / ``pred_instance_map`` / ``pred_sem_seg`` for
        the nuclei family, ``pred_sem_seg`` for semantic and text-guided
        models, ``pred_masks`` for promptable (one per prompt) and
        referring (one per [SEG]) models.
    """
    single = not isinstance(img, (list, tuple))
    imgs: List[ImageType] = [img] if single else list(img)
    if extra_inputs is None or isinstance(extra_inputs, dict):
        extras = [extra_inputs] * len(imgs)
    else:
        extras = list(extra_inputs)
        if len(extras) != len(imgs):
            raise ValueError(f'inference_model: {len(extras)} extra inputs '
                             f'for {len(imgs)} images.')
    adapter = get_task_adapter(model)
    results = []
    for image, extra in zip(imgs, extras):
        pipeline = inference_pipeline(
            model.cfg, model, from_array=isinstance(image, np.ndarray))
        data = pipeline(adapter.add_inputs(_pipeline_input(image), extra))
        batch = dict(
            inputs=[data['inputs']], data_samples=[data['data_samples']])
        results.extend(adapter.predict(model, batch))
    return results[0] if single else results
