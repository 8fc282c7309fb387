# Copyright (c) mmpathseg contributors. All rights reserved.
"""Task adapter of the nuclei instance family (CellViT, CellVTA:
:class:`~mmpathseg.models.segmentors.CellInstanceSegmentor`)."""
import os.path as osp
from typing import Iterable, List, Sequence, Tuple

import cv2
import numpy as np
import torch

from mmpathseg.exports import (coco_dataset, instance_summary,
                               instances_to_coco, instances_to_geojson,
                               write_coco, write_geojson, write_mask_pngs,
                               write_summary)
from mmpathseg.postprocessing import InstanceTileMerger
from mmpathseg.visualization import draw_instances
from .large_image import TileRunner
from .task_adapters import TaskAdapter, register_task_adapter


def _numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


@register_task_adapter('CellInstanceSegmentor')
class CellInstanceAdapter(TaskAdapter):
    """Nuclei: instance map, type map and one record per nucleus.

    Result dict (``task='cell_instance'``): ``inst_map`` ``(H, W)`` int32 ids
    (0 background), ``type_map`` ``(H, W)`` type at each pixel,
    ``instances`` (dict of ``ids`` (N,), ``labels`` (N,), ``scores`` (N,),
    ``areas`` (N,), ``centroids`` (N, 2) ``(x, y)``, ``bboxes`` (N, 4)
    ``(x1, y1, x2, y2)``, ``contours`` list of ``(K, 2)`` ``(x, y)``), and
    ``tissue`` ``{label, name?, scores}`` when the model has a tissue head.
    Exports: ``geojson`` (QuPath), ``coco`` (RLE), ``png`` (instance and
    type maps), ``summary`` (per-type counts).
    """

    task = 'cell_instance'
    export_formats = ('geojson', 'coco', 'png', 'summary')

    def to_result(self, data_sample) -> dict:
        inst = data_sample.pred_instances
        instances = {
            key: _numpy(getattr(inst, key))
            for key in ('ids', 'labels', 'scores', 'areas', 'centroids',
                        'bboxes')
        }
        instances['contours'] = [np.asarray(c) for c in inst.contours]
        result = dict(
            task=self.task,
            inst_map=_numpy(data_sample.pred_instance_map.data[0]).astype(
                np.int32),
            type_map=_numpy(data_sample.pred_sem_seg.data[0]).astype(
                np.uint8),
            instances=instances)
        if 'pred_tissue_scores' in data_sample:
            scores = _numpy(data_sample.pred_tissue_scores)
            label = int(scores.argmax())
            result['tissue'] = dict(label=label, scores=scores.tolist())
            names = self.meta.get('tissue_types')
            if names is not None and label < len(names):
                result['tissue']['name'] = str(names[label])
        return result

    def draw(self, image: np.ndarray, result: dict, alpha: float = 0.35,
             thickness: int = 1, **kwargs) -> np.ndarray:
        inst = result['instances']
        return draw_instances(image, inst['contours'], inst['labels'],
                              self.class_color, alpha, thickness)

    def summary(self, result: dict) -> dict:
        inst = result['instances']
        height, width = result['inst_map'].shape
        names = self.classes or [
            self.class_name(i)
            for i in range(int(np.max(inst['labels'], initial=0)) + 1)
        ]
        extra = dict(task=self.task, height=int(height), width=int(width))
        if 'tissue' in result:
            extra['tissue'] = result['tissue']
        return instance_summary(inst['labels'], names, inst['areas'],
                                **extra)

    def export(self, result: dict, out_dir: str, stem: str,
               formats: Iterable[str]) -> List[str]:
        formats = self.check_export_formats(formats)
        inst = result['instances']
        top = int(np.max(inst['labels'], initial=0))
        names = [self.class_name(i) for i in range(top + 1)]
        if self.classes is not None and len(self.classes) > top:
            names = list(self.classes)
        colors = [self.class_color(i) for i in range(len(names))]
        written = []
        if 'geojson' in formats:
            fc = instances_to_geojson(
                inst['contours'], inst['labels'], names, colors,
                inst['scores'], inst['areas'], inst['ids'])
            written.append(
                write_geojson(fc, osp.join(out_dir, f'{stem}.geojson')))
        if 'coco' in formats:
            height, width = result['inst_map'].shape
            anns = instances_to_coco(result['inst_map'], inst['ids'],
                                     inst['labels'], inst['bboxes'],
                                     inst['scores'])
            image = dict(id=1, file_name=stem, height=int(height),
                         width=int(width))
            written.append(
                write_coco(
                    coco_dataset([image], anns, names),
                    osp.join(out_dir, f'{stem}_coco.json')))
        if 'png' in formats:
            written.extend(
                write_mask_pngs(
                    dict(instances=result['inst_map'],
                         types=result['type_map']), out_dir, stem).values())
        if 'summary' in formats:
            written.append(
                write_summary(
                    dict(self.summary(result), image=stem),
                    osp.join(out_dir, f'{stem}_summary.json')))
        return written

    def scale_result(self, result: dict, scale: float,
                     shape: Tuple[int, int]) -> dict:
        inst = result['instances']
        contours = [
            np.round(np.asarray(c, np.float64) * scale).astype(np.int32)
            for c in inst['contours']
        ]
        return dict(
            task=self.task,
            instances=dict(contours=contours, labels=inst['labels']))

    def large_image_runner(self, model, **kwargs) -> 'CellTileRunner':
        return CellTileRunner(model, **kwargs)


def _window_contour(inst_map: np.ndarray, inst_id: int,
                    box: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Largest outer contour (global ``(x, y)``) and centroid of one
    instance, from its bounding-box window."""
    x1, y1, x2, y2 = (int(v) for v in box)
    mask = (np.asarray(inst_map[y1:y2, x1:x2]) == inst_id).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    moments = cv2.moments(mask, binaryImage=True)
    if not contours or moments['m00'] == 0:
        return np.zeros((0, 2), np.int32), np.array([np.nan, np.nan])
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2)
    centroid = np.array([moments['m10'] / moments['m00'] + x1,
                         moments['m01'] / moments['m00'] + y1])
    return (contour + [x1, y1]).astype(np.int32), centroid


class CellTileRunner(TileRunner):
    """Post-processes every tile with the model's post-processor and merges
    the tile instances with :class:`InstanceTileMerger` (into a memory-mapped
    map under ``work_dir`` when given).

    Args:
        dup_thresh (float): Overlap from which two tile instances are the
            same nucleus. Defaults to the model's ``test_cfg.dup_thresh``.
        **kwargs: See :class:`TileRunner`.
    """

    def __init__(self, model, dup_thresh=None, **kwargs) -> None:
        super().__init__(model, **kwargs)
        if any(t % 16 for t in self.tile_size):
            raise ValueError('Nuclei tiled inference: tile_size must be '
                             f'multiples of 16, got {self.tile_size}.')
        if dup_thresh is None:
            dup_thresh = model.test_cfg.get('dup_thresh', 0.5)
        self.merger = InstanceTileMerger(
            self.image_shape,
            dup_thresh=dup_thresh,
            out=self.image_array('inst_map', np.int32))

    def add_batch(self, inputs, origins, valid) -> None:
        # The segmentor's map function: NP/NC softmax, HV, tissue vectors.
        maps = self.model._map_fn(inputs)
        for j, ((y, x), (h, w)) in enumerate(zip(origins, valid)):
            nc = maps['nc'][j, :, :h, :w] if 'nc' in maps else None
            res = self.model.postprocessor(maps['np'][j, :, :h, :w],
                                           maps['hv'][j, :, :h, :w], nc)
            self.merger.add_result(res, (y, x))

    def result(self) -> dict:
        records = self.merger.records()
        inst_map = self.merger.inst_map
        contours, centroids = [], []
        for inst_id, box in zip(records['ids'], records['bboxes']):
            contour, centroid = _window_contour(inst_map, int(inst_id), box)
            contours.append(contour)
            centroids.append(centroid)
        lut = np.zeros(int(records['ids'].max(initial=0)) + 1, np.uint8)
        lut[records['ids']] = records['labels']
        type_map = self.image_array('type_map', np.uint8)
        for row in range(0, self.image_shape[0], 1024):
            type_map[row:row + 1024] = lut[inst_map[row:row + 1024]]
        instances = dict(
            ids=records['ids'],
            labels=records['labels'],
            scores=records['scores'],
            areas=records['areas'],
            centroids=np.asarray(centroids, dtype=np.float64).reshape(-1, 2),
            bboxes=records['bboxes'].astype(np.float64),
            contours=contours)
        return dict(
            task=CellInstanceAdapter.task,
            inst_map=inst_map,
            type_map=type_map,
            instances=instances)
