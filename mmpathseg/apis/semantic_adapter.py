# Copyright (c) mmpathseg contributors. All rights reserved.
"""Task adapter of plain semantic segmentation (mmseg ``EncoderDecoder``
models such as the demo U-Net)."""
import os.path as osp
from typing import Iterable, List

import cv2
import numpy as np

from mmpathseg.exports import write_label_png, write_summary
from mmpathseg.visualization import draw_semantic
from .large_image import TileRunner
from .task_adapters import TaskAdapter, register_task_adapter


@register_task_adapter('EncoderDecoder')
class SemanticAdapter(TaskAdapter):
    """A class per pixel.

    Result dict (``task='semantic'``): ``sem_seg`` ``(H, W)`` uint8 class
    indices. Exports: ``png`` (the class map), ``summary`` (pixels per
    class).
    """

    task = 'semantic'
    export_formats = ('png', 'summary')

    def to_result(self, data_sample) -> dict:
        sem = data_sample.pred_sem_seg.data[0].cpu().numpy()
        return dict(task=self.task, sem_seg=sem.astype(np.uint8))

    def draw(self, image: np.ndarray, result: dict, alpha: float = 0.5,
             **kwargs) -> np.ndarray:
        top = int(result['sem_seg'].max(initial=0))
        n = max(top + 1, len(self.classes or ()))
        palette = [self.class_color(i) for i in range(n)]
        return draw_semantic(image, result['sem_seg'], palette, alpha)

    def summary(self, result: dict) -> dict:
        sem = result['sem_seg']
        counts = np.bincount(
            np.asarray(sem).ravel(),
            minlength=len(self.classes or ()))
        return dict(
            task=self.task,
            height=int(sem.shape[0]),
            width=int(sem.shape[1]),
            pixel_counts={
                self.class_name(i): int(c)
                for i, c in enumerate(counts)
            })

    def export(self, result: dict, out_dir: str, stem: str,
               formats: Iterable[str]) -> List[str]:
        formats = self.check_export_formats(formats)
        written = []
        if 'png' in formats:
            written.append(
                write_label_png(result['sem_seg'],
                                osp.join(out_dir, f'{stem}_sem_seg.png')))
        if 'summary' in formats:
            written.append(
                write_summary(
                    dict(self.summary(result), image=stem),
                    osp.join(out_dir, f'{stem}_summary.json')))
        return written

    def scale_result(self, result: dict, scale: float, shape) -> dict:
        sem = np.asarray(result['sem_seg'])
        step = max(int(round(1 / scale)), 1)
        small = sem[::step, ::step][:shape[0], :shape[1]]
        small = cv2.resize(small, (shape[1], shape[0]),
                           interpolation=cv2.INTER_NEAREST)
        return dict(task=self.task, sem_seg=small)

    def large_image_runner(self, model, **kwargs) -> 'SemanticTileRunner':
        return SemanticTileRunner(model, **kwargs)


class SemanticTileRunner(TileRunner):
    """Keeps the class argmax of each tile's *core*: the tile minus half the
    overlap on every side shared with a neighbour, so every pixel comes from
    a tile that sees at least ``overlap / 2`` px of context around it and
    the cores tile the image without gaps."""

    def __init__(self, model, **kwargs) -> None:
        super().__init__(model, **kwargs)
        self.sem_seg = self.image_array('sem_seg', np.uint8)

    def add_batch(self, inputs, origins, valid) -> None:
        tile_h, tile_w = inputs.shape[-2:]
        metas = [
            dict(img_shape=(tile_h, tile_w), ori_shape=(tile_h, tile_w),
                 pad_shape=(tile_h, tile_w))
        ] * inputs.shape[0]
        logits = self.model.encode_decode(inputs, metas)
        labels = logits.argmax(dim=1).cpu().numpy().astype(np.uint8)
        height, width = self.image_shape
        half_h, half_w = self.overlap[0] // 2, self.overlap[1] // 2
        for j, ((y, x), (h, w)) in enumerate(zip(origins, valid)):
            top = half_h if y > 0 else 0
            left = half_w if x > 0 else 0
            bottom = h - half_h if y + h < height else h
            right = w - half_w if x + w < width else w
            self.sem_seg[y + top:y + bottom, x + left:x + right] = \
                labels[j, top:bottom, left:right]

    def result(self) -> dict:
        return dict(task=SemanticAdapter.task, sem_seg=self.sem_seg)
