# Copyright (c) mmpathseg contributors. All rights reserved.
"""The inferencer of mmpathseg, in the style of mmseg's
``MMSegInferencer``: config + checkpoint in, predictions, pictures and
export files out, for every registered task family."""
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.infer.infer import BaseInferencer
from mmengine.utils import ProgressBar

from mmpathseg.registry import INFERENCERS
from .inference import _pipeline_input, inference_pipeline, init_model
from .large_image import infer_large_image, thumbnail
from .task_adapters import get_task_adapter

IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def list_images(folder: str,
                extensions: Sequence[str] = IMG_EXTENSIONS) -> List[str]:
    """Paths of the images directly in ``folder``, sorted by name."""
    names = sorted(f for f in os.listdir(folder)
                   if f.lower().endswith(tuple(extensions)))
    if not names:
        raise FileNotFoundError(f'no images ({tuple(extensions)}) in '
                                f'{folder}.')
    return [osp.join(folder, f) for f in names]


@INFERENCERS.register_module()
class MMPathSegInferencer(BaseInferencer):
    """Predict with any mmpathseg model on image files, folders or arrays.

    The task-specific parts (extra inputs such as prompts, result format,
    drawing, export formats) come from the model's task adapter
    (:func:`~mmpathseg.apis.get_task_adapter`), so one inferencer serves
    every family that registered one.

    Args:
        model (str | Config | dict): Config file or object.
        weights (str, optional): Checkpoint; random weights when None (with
            a warning).
        device (str): Defaults to ``'cpu'``.
        scope (str): Registry scope. Defaults to ``'mmpathseg'``.
        show_progress (bool): Progress bar over the inputs. Defaults to
            True.

    Inputs are image paths, a folder (its images, sorted), ``(H, W, 3)``
    BGR arrays, or dicts ``dict(img=path_or_array, **extra_inputs)`` for
    tasks with prompts or texts.

    Examples:
        >>> inferencer = MMPathSegInferencer(
        ...     'configs/demo/cellvta-tiny_pannuke-demo.py', 'iter_200.pth')
        >>> out = inferencer('tiles/', out_dir='results/',
        ...                  export_formats=('geojson', 'summary'))
        >>> out['predictions'][0]['instances']['labels']
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs = {'show', 'wait_time', 'opacity', 'return_vis', 'draw'}
    postprocess_kwargs = {'export_formats'}

    def __init__(self,
                 model: Union[str, Config, dict],
                 weights: Optional[str] = None,
                 device: str = 'cpu',
                 scope: str = 'mmpathseg',
                 show_progress: bool = True) -> None:
        self._out_dir = ''
        self._stems: List[str] = []
        super().__init__(
            model=model,
            weights=weights,
            device=device,
            scope=scope,
            show_progress=show_progress)
        self.adapter = get_task_adapter(self.model)

    # -- construction -------------------------------------------------- #
    def _init_model(self, cfg, weights, device='cpu'):
        if isinstance(cfg, ConfigDict):
            cfg = Config(cfg.to_dict())
        if weights is None:
            import warnings
            warnings.warn('MMPathSegInferencer: no checkpoint given, the '
                          'predictions come from random weights.')
        return init_model(cfg, weights, device)

    def _init_pipeline(self, cfg):
        pipelines = dict(
            path=inference_pipeline(self.model.cfg, self.model, False),
            array=inference_pipeline(self.model.cfg, self.model, True))

        def run(item) -> dict:
            extra = None
            if isinstance(item, dict):
                extra = {k: v for k, v in item.items() if k != 'img'}
                item = item['img']
            data = _pipeline_input(item)
            kind = 'array' if isinstance(item, np.ndarray) else 'path'
            adapter = get_task_adapter(self.model)
            return pipelines[kind](adapter.add_inputs(data, extra))

        return run

    def _init_collate(self, cfg):
        return pseudo_collate

    def _init_visualizer(self, cfg):
        return None  # drawing goes through the task adapter

    def _inputs_to_list(self, inputs) -> list:
        if isinstance(inputs, (str, os.PathLike)) and osp.isdir(inputs):
            return list_images(inputs)
        if not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        return list(inputs)

    @staticmethod
    def _stem(item, index: int) -> str:
        if isinstance(item, dict):
            item = item.get('img')
        if isinstance(item, (str, os.PathLike)):
            return osp.splitext(osp.basename(os.fspath(item)))[0]
        return f'{index:08d}'

    @staticmethod
    def _rgb(item) -> np.ndarray:
        if isinstance(item, dict):
            item = item['img']
        if isinstance(item, np.ndarray):
            return np.ascontiguousarray(item[..., ::-1])
        bgr = cv2.imread(os.fspath(item), cv2.IMREAD_COLOR)
        if bgr is None:
            raise IOError(f'MMPathSegInferencer: cannot read {item}.')
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    # -- running ------------------------------------------------------- #
    def __call__(self,
                 inputs,
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 out_dir: str = '',
                 **kwargs) -> dict:
        """Predict.

        Args:
            inputs: See the class docstring.
            return_datasamples (bool): Return the data samples instead of
                result dicts. Defaults to False.
            batch_size (int): Images per forward. Defaults to 1.
            out_dir (str): Write ``vis/{stem}.png`` pictures and the
                exports there. Nothing is written when empty.
            show (bool): Show the pictures in a window. Defaults to False.
            opacity (float): Overlay opacity. Defaults to the task's.
            return_vis (bool): Return the pictures. Defaults to False.
            draw (bool): Write the pictures to ``out_dir``. Defaults to
                True.
            export_formats (Sequence[str]): Export formats of the task (e.g.
                ``geojson``, ``coco``, ``png``, ``summary``); default
                ``('summary',)``.

        Returns:
            dict: ``predictions`` (list of result dicts or data samples),
            ``visualization`` (list of RGB pictures, with ``return_vis``)
            and ``files`` (written paths).
        """
        self._out_dir = out_dir
        pre_kw, fwd_kw, vis_kw, post_kw = self._dispatch_kwargs(**kwargs)
        ori_inputs = self._inputs_to_list(inputs)
        stems = [self._stem(x, i) for i, x in enumerate(ori_inputs)]
        # One batch at a time: loaded, predicted, drawn and written before
        # the next one is read.
        chunks = self.preprocess(ori_inputs, batch_size=batch_size, **pre_kw)
        bar = ProgressBar(len(ori_inputs), file=sys.stderr) \
            if self.show_progress else None
        out = dict(predictions=[], files=[])
        start = 0
        for data in chunks:
            preds = self.forward(data, **fwd_kw)
            stop = start + len(preds)
            self._stems = stems[start:stop]
            pictures = self.visualize(ori_inputs[start:stop], preds,
                                      **vis_kw)
            res = self.postprocess(preds, pictures, return_datasamples,
                                   **post_kw)
            out['predictions'] += res['predictions']
            out['files'] += res['files']
            if 'visualization' in res:
                out.setdefault('visualization', []).extend(
                    res['visualization'])
            start = stop
            if bar is not None:
                for _ in preds:
                    bar.update()
        if bar is not None:
            sys.stderr.write('\n')
        return out

    @torch.no_grad()
    def forward(self, inputs, **kwargs) -> list:
        """Predict one collated batch through the task adapter."""
        return self.adapter.predict(self.model, inputs)

    def visualize(self,
                  inputs: list,
                  preds: list,
                  show: bool = False,
                  wait_time: float = 0,
                  opacity: Optional[float] = None,
                  return_vis: bool = False,
                  draw: bool = True) -> Optional[List[np.ndarray]]:
        """Draw every prediction with the task adapter; write them to
        ``out_dir/vis/{stem}.png`` when ``out_dir`` is set and ``draw``."""
        if not (show or return_vis or (self._out_dir and draw)):
            return None
        pictures = []
        for item, pred, stem in zip(inputs, preds, self._stems):
            kwargs = {} if opacity is None else dict(alpha=opacity)
            picture = self.adapter.draw(self._rgb(item),
                                        self.adapter.to_result(pred),
                                        **kwargs)
            if show:
                cv2.imshow(stem, picture[..., ::-1])
                cv2.waitKey(int(wait_time * 1000))
            if self._out_dir and draw:
                from mmpathseg.exports import write_bytes_atomic
                ok, buf = cv2.imencode('.png', picture[..., ::-1])
                write_bytes_atomic(
                    buf.tobytes(), osp.join(self._out_dir, 'vis',
                                            f'{stem}.png'))
            pictures.append(picture)
        return pictures if return_vis else None

    def postprocess(self,
                    preds: list,
                    visualization: Optional[List[np.ndarray]] = None,
                    return_datasample: bool = False,
                    export_formats: Sequence[str] = ('summary', )) -> Dict:
        """Result dicts (or data samples) and the export files."""
        results, files = [], []
        for pred, stem in zip(preds, self._stems):
            result = self.adapter.to_result(pred)
            if self._out_dir and export_formats:
                files.extend(
                    self.adapter.export(result, self._out_dir, stem,
                                        export_formats))
            results.append(pred if return_datasample else result)
        out = dict(predictions=results, files=files)
        if visualization is not None:
            out['visualization'] = visualization
        return out

    def infer_large(self,
                    image,
                    out_dir: str = '',
                    stem: Optional[str] = None,
                    export_formats: Sequence[str] = ('summary', ),
                    tile_size=None,
                    overlap=64,
                    batch_size: int = 4,
                    work_dir: Optional[str] = None,
                    progress: bool = True,
                    draw: bool = True,
                    max_vis_side: int = 2048,
                    **kwargs) -> Dict:
        """Tiled, memory-bounded inference of one large image (see
        :func:`~mmpathseg.apis.infer_large_image`), exported like the other
        inputs; with ``out_dir`` and ``draw`` an overlay on a thumbnail of at
        most ``max_vis_side`` px goes to ``out_dir/vis/{stem}.png``.

        Returns:
            dict: ``prediction`` (the result dict) and ``files``.
        """
        result = infer_large_image(
            self.model,
            image,
            tile_size=tile_size,
            overlap=overlap,
            batch_size=batch_size,
            work_dir=work_dir,
            progress=progress,
            **kwargs)
        if stem is None:
            stem = self._stem(image, 0) if not isinstance(
                image, np.ndarray) else 'image'
        files = []
        if out_dir and export_formats:
            files = self.adapter.export(result, out_dir, stem,
                                        export_formats)
        if out_dir and draw:
            from mmpathseg.exports import write_bytes_atomic
            thumb, scale = thumbnail(image, max_vis_side)
            picture = self.adapter.draw(
                thumb,
                self.adapter.scale_result(result, scale, thumb.shape[:2]))
            ok, buf = cv2.imencode('.png', picture[..., ::-1])
            files.append(
                write_bytes_atomic(buf.tobytes(),
                                   osp.join(out_dir, 'vis', f'{stem}.png')))
        return dict(prediction=result, files=files)
