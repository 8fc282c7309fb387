# Copyright (c) mmpathseg contributors. All rights reserved.
"""Task adapter of report-guided binary segmentation
(:class:`~mmpathseg.models.segmentors.TextGuidedSegmentor`: Ariadne's
Thread, MLMoE)."""
import os.path as osp
from typing import Iterable, List, Optional

import cv2
import numpy as np

from mmpathseg.exports import write_binary_mask_png, write_summary
from mmpathseg.visualization import draw_semantic
from .task_adapters import (ANNOTATION_TRANSFORMS, TaskAdapter,
                            register_task_adapter)

#: Colour of the predicted lesion when the model has no palette.
MASK_COLOR = (255, 64, 64)


@register_task_adapter('TextGuidedSegmentor')
class TextGuidedAdapter(TaskAdapter):
    """An image and, optionally, its report in; one binary mask out.

    Extra input: ``text`` (str or None). None or an empty string marks the
    image as having no report (``has_text=False``); the model then follows
    its ``test_cfg.missing_text`` (virtual prompt or empty sentence), or
    ignores text altogether under ``text_mode='none'`` / ``'virtual'`` /
    ``'fixed'``.

    Result dict (``task='text_guided'``): ``mask`` ``(H, W)`` uint8 0/1 at
    the original image size, ``text`` (the report used, or None).

    Exports: ``png`` (``{stem}_mask.png``, 0/255 grey), ``summary``
    (``{stem}_summary.json``: size, foreground pixel count and fraction,
    whether a text was given).
    """

    task = 'text_guided'
    drop_transforms = ANNOTATION_TRANSFORMS + ('LoadBinaryMask', )
    extra_input_keys = ('text', )
    export_formats = ('png', 'summary')

    def add_inputs(self, data: dict, extra: Optional[dict]) -> dict:
        data = super().add_inputs(data, extra)
        text = data.get('text')
        if text is not None and not isinstance(text, str):
            raise TypeError(
                f'{type(self).__name__}: `text` must be a str or None, got '
                f'{type(text).__name__} ({text!r}).')
        # PackTextSegInputs marks an absent or empty text has_text=False.
        data['text'] = text or None
        return data

    def to_result(self, data_sample) -> dict:
        mask = data_sample.pred_sem_seg.data[0].cpu().numpy().astype(
            np.uint8)
        ori = data_sample.metainfo.get('ori_shape')
        if ori is not None and tuple(mask.shape) != tuple(ori[:2]):
            # test_cfg.output_shape='img_shape' with a resizing pipeline.
            mask = cv2.resize(
                mask, (int(ori[1]), int(ori[0])),
                interpolation=cv2.INTER_NEAREST)
        return dict(
            task=self.task,
            mask=mask,
            text=data_sample.metainfo.get('text'))

    def _color(self) -> tuple:
        if self.palette is not None and len(self.palette) > 1:
            return self.palette[1]
        return MASK_COLOR

    def draw(self, image: np.ndarray, result: dict, alpha: float = 0.5,
             **kwargs) -> np.ndarray:
        return draw_semantic(image, result['mask'],
                             [(0, 0, 0), self._color()], alpha)

    def summary(self, result: dict) -> dict:
        mask = np.asarray(result['mask'])
        foreground = int(np.count_nonzero(mask))
        return dict(
            task=self.task,
            height=int(mask.shape[0]),
            width=int(mask.shape[1]),
            foreground_pixels=foreground,
            foreground_fraction=foreground / max(mask.size, 1),
            has_text=bool(result.get('text')),
            text=result.get('text'))

    def export(self, result: dict, out_dir: str, stem: str,
               formats: Iterable[str]) -> List[str]:
        formats = self.check_export_formats(formats)
        written = []
        if 'png' in formats:
            written.append(
                write_binary_mask_png(result['mask'],
                                      osp.join(out_dir, f'{stem}_mask.png')))
        if 'summary' in formats:
            written.append(
                write_summary(
                    dict(self.summary(result), image=stem),
                    osp.join(out_dir, f'{stem}_summary.json')))
        return written

    def scale_result(self, result: dict, scale: float, shape) -> dict:
        small = cv2.resize(
            np.asarray(result['mask'], np.uint8), (shape[1], shape[0]),
            interpolation=cv2.INTER_NEAREST)
        return dict(result, mask=small)
