# Copyright (c) mmpathseg contributors. All rights reserved.
"""A segmentation visualizer that draws every family's data samples:
nuclei instances, promptable masks with their prompts, referring targets
with their expression, text-guided masks with their report."""
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmseg.visualization import SegLocalVisualizer

from mmpathseg.registry import VISUALIZERS
from .draw import (draw_instances, draw_prompted_mask, draw_referring,
                   instance_contours)
from .sample_drawers import (LESION_COLOR, draw_promptable_sample,
                             draw_referring_sample, draw_text_guided_sample,
                             sample_kind)


@VISUALIZERS.register_module()
class PathSegLocalVisualizer(SegLocalVisualizer):
    """:class:`mmseg.visualization.SegLocalVisualizer` for every family.

    :meth:`add_datasample` (what ``SegVisualizationHook`` and so
    ``tools/test.py --show-dir`` call) picks the picture from what the data
    sample contains (:func:`~mmpathseg.visualization.sample_kind`), ground
    truth left, prediction right, as mmseg:

    - ``pred_instances`` with ``contours`` (nuclei): instances filled with
      the colour of their type and outlined; ground truth from
      ``gt_instance_map`` + ``gt_sem_seg``;
    - ``pred_masks_<mode>`` (promptable): a panel per prompt mode with each
      object's mask, box and clicks
      (:func:`~mmpathseg.visualization.draw_promptable_sample`);
    - ``pred_masks`` + ``pred_rejected`` (referring): the targets under the
      expression, answer and [SEG]/[REJ] decisions
      (:func:`~mmpathseg.visualization.draw_referring_sample`); the picture
      name gets ``_ref{ref_id}`` so the expressions of one image do not
      overwrite each other;
    - ``pred_sem_seg`` with a ``text`` / ``has_text`` metainfo
      (text-guided): the mask under the report
      (:func:`~mmpathseg.visualization.draw_text_guided_sample`), in the
      palette's foreground colour unless that is grey or white;
    - anything else: mmseg's class-map drawing.

    Args:
        instance_alpha (float): Fill opacity of instances. Defaults to 0.35.
        contour_thickness (int): Instance contour width. Defaults to 1.
        min_draw_size (int): Promptable, referring and text-guided pictures
            upscale images whose longer side is shorter than this (by an
            integer factor) so that text and clicks stay legible. Defaults
            to 256.
        name (str): Instance name. Defaults to ``'visualizer'``.
        **kwargs: Arguments of :class:`SegLocalVisualizer` (``image``,
            ``vis_backends``, ``save_dir``, ``classes``, ``palette``,
            ``alpha``).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 instance_alpha: float = 0.35,
                 contour_thickness: int = 1,
                 min_draw_size: int = 256,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.instance_alpha = instance_alpha
        self.contour_thickness = contour_thickness
        self.min_draw_size = min_draw_size

    def _color_of(self, label: int) -> tuple:
        palette = (self.dataset_meta or {}).get('palette')
        if palette is not None and 0 <= label < len(palette):
            return tuple(int(c) for c in palette[label])
        rng = np.random.RandomState(label * 7919 + 17)
        return tuple(int(v) for v in rng.randint(64, 256, size=3))

    def draw_instance_result(self, image: np.ndarray,
                             contours: Sequence[np.ndarray],
                             labels: Sequence[int]) -> np.ndarray:
        """Instances over ``image`` (RGB) in the colours of the palette."""
        return draw_instances(image, contours, labels, self._color_of,
                              self.instance_alpha, self.contour_thickness)

    def draw_gt_instances(self, image: np.ndarray,
                          data_sample) -> np.ndarray:
        """Ground-truth instances (``gt_instance_map``, types by majority of
        ``gt_sem_seg``) over ``image`` (RGB)."""
        inst_map = data_sample.gt_instance_map.data[0].cpu().numpy()
        ids, contours = instance_contours(inst_map)
        labels = np.ones(len(ids), dtype=np.int64)
        if 'gt_sem_seg' in data_sample:
            sem = data_sample.gt_sem_seg.data[0].cpu().numpy()
            for k, contour in enumerate(contours):
                votes = sem[inst_map == ids[k]]
                votes = votes[(votes > 0) & (votes < 255)]
                labels[k] = np.bincount(votes).argmax() if votes.size else 0
        return self.draw_instance_result(image, contours, labels)

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw a data sample (see the class docstring) and save it to the
        backends, or to ``out_file``."""
        kind = sample_kind(data_sample)
        if kind == 'semantic':
            return super().add_datasample(name, image, data_sample, draw_gt,
                                          draw_pred, show, wait_time,
                                          out_file, step, with_labels)
        drawn = self.draw_sample(image, data_sample, draw_gt, draw_pred)
        if kind == 'referring' and 'ref_id' in data_sample.metainfo:
            name = f'{name}_ref{data_sample.metainfo["ref_id"]}'
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)

    def _lesion_color(self) -> tuple:
        """The palette's foreground colour, unless it is grey or white
        (binary-mask datasets), which vanishes on an X-ray."""
        palette = (self.dataset_meta or {}).get('palette')
        if palette is not None and len(palette) > 1 and len(
                set(int(c) for c in palette[1])) > 1:
            return tuple(int(c) for c in palette[1])
        return LESION_COLOR

    def draw_sample(self,
                    image: np.ndarray,
                    data_sample,
                    draw_gt: bool = True,
                    draw_pred: bool = True) -> np.ndarray:
        """The picture of a nuclei, promptable, referring or text-guided
        data sample over ``image`` (``(H, W, 3)`` uint8 RGB, original
        size).

        Returns:
            np.ndarray: ``(h, w, 3)`` uint8 RGB.
        """
        kind = sample_kind(data_sample)
        size = self.min_draw_size
        if kind == 'promptable':
            return draw_promptable_sample(image, data_sample, draw_gt,
                                          draw_pred, size)
        if kind == 'referring':
            return draw_referring_sample(image, data_sample, draw_gt,
                                         draw_pred, size)
        if kind == 'text_guided':
            return draw_text_guided_sample(image, data_sample,
                                           self._lesion_color(), draw_gt,
                                           draw_pred, size)
        if kind != 'instances':
            raise ValueError(
                f'PathSegLocalVisualizer.draw_sample: a {kind!r} sample is '
                'drawn by mmseg (add_datasample), not here.')
        panels = []
        if draw_gt and 'gt_instance_map' in data_sample:
            panels.append(self.draw_gt_instances(image, data_sample))
        if draw_pred:
            inst = data_sample.pred_instances
            panels.append(
                self.draw_instance_result(image, inst.contours,
                                          inst.labels.tolist()))
        return np.concatenate(panels, axis=1) if panels else image

    @staticmethod
    def draw_prompts(image: np.ndarray, mask=None, boxes=None, points=None,
                     point_labels=None, **kwargs) -> np.ndarray:
        """See :func:`~mmpathseg.visualization.draw_prompted_mask`."""
        return draw_prompted_mask(image, mask, boxes, points, point_labels,
                                  **kwargs)

    @staticmethod
    def draw_referring(image: np.ndarray, masks, expression: str,
                       rejected: bool = False, **kwargs) -> np.ndarray:
        """See :func:`~mmpathseg.visualization.draw_referring`."""
        return draw_referring(image, masks, expression, rejected, **kwargs)
