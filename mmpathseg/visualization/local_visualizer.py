# Copyright (c) mmpathseg contributors. All rights reserved.
"""A segmentation visualizer that also draws instances, prompts and
referring targets."""
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmseg.visualization import SegLocalVisualizer

from mmpathseg.registry import VISUALIZERS
from .draw import (draw_instances, draw_prompted_mask, draw_referring,
                   instance_contours)


@VISUALIZERS.register_module()
class PathSegLocalVisualizer(SegLocalVisualizer):
    """:class:`mmseg.visualization.SegLocalVisualizer` plus instances.

    A data sample with ``pred_instances`` (``contours``, ``labels``; the
    nuclei family) is drawn as instances filled with the colour of their type
    and outlined; its ground truth ``gt_instance_map`` + ``gt_sem_seg`` the
    same way (ground truth left, prediction right, as mmseg). Samples
    without instances are drawn by mmseg (class maps). :meth:`draw_prompts`
    and :meth:`draw_referring` are there for the promptable and referring
    families.

    Args:
        instance_alpha (float): Fill opacity of instances. Defaults to 0.35.
        contour_thickness (int): Instance contour width. Defaults to 1.
        name (str): Instance name. Defaults to ``'visualizer'``.
        **kwargs: Arguments of :class:`SegLocalVisualizer` (``image``,
            ``vis_backends``, ``save_dir``, ``classes``, ``palette``,
            ``alpha``).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 instance_alpha: float = 0.35,
                 contour_thickness: int = 1,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.instance_alpha = instance_alpha
        self.contour_thickness = contour_thickness

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
        if data_sample is None or 'pred_instances' not in data_sample \
                or 'contours' not in data_sample.pred_instances:
            return super().add_datasample(name, image, data_sample, draw_gt,
                                          draw_pred, show, wait_time,
                                          out_file, step, with_labels)
        panels = []
        if draw_gt and 'gt_instance_map' in data_sample:
            panels.append(self.draw_gt_instances(image, data_sample))
        if draw_pred:
            inst = data_sample.pred_instances
            panels.append(
                self.draw_instance_result(image, inst.contours,
                                          inst.labels.tolist()))
        drawn = np.concatenate(panels, axis=1) if panels else image
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)

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
