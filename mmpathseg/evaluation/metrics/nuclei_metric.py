# Copyright (c) mmpathseg contributors. All rights reserved.
"""PQ-family metric of nuclei instance segmentation and classification."""
import json
import math
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import get_rank, is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from prettytable import PrettyTable

from mmpathseg.registry import METRICS
from .instance_stats import nuclei_image_stats
from .nuclei_aggregation import (AGGREGATION_LABELS, AGGREGATIONS,
                                 IMAGE_LEVEL_KEYS, aggregate_nuclei_stats,
                                 image_score_records)

STATS_FILE = 'nuclei_instance_stats.json'


def _get(sample: Any, key: str, default: Any = None) -> Any:
    """A field of a data sample given as a dict (what the evaluator passes)
    or as a data element."""
    if hasattr(sample, 'get'):
        return sample.get(key, default)
    return getattr(sample, key, default)


def _to_numpy_map(field: Any) -> np.ndarray:
    """``(H, W)`` array of a PixelData, its dict, a tensor or an array."""
    data = field
    if not isinstance(field, (np.ndarray, torch.Tensor)):
        data = _get(field, 'data')
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    data = np.asarray(data)
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    return data


@METRICS.register_module()
class NucleiInstanceMetric(BaseMetric):
    """PQ, DQ, SQ (binary and per class), mPQ, Dice, Jaccard, AJI, AJI+,
    Dice2, optional detection F1 and count R² of nuclei instance maps.

    ``process`` reduces every image to a few count arrays
    (:func:`~.instance_stats.nuclei_image_stats`); ``compute_metrics``
    aggregates them with the convention(s) named by ``aggregation`` (see
    :mod:`.nuclei_aggregation` for the exact definitions):

    - ``'image'``: NaN-skipping mean of per-image scores (CellViT/CellVTA
      logs; e.g. CellVTA's "0.506 mPQ" on PanNuke, "0.538" on CoNIC).
    - ``'tissue'``: per-tissue image means, then the mean over tissues
      (PanNuke official ``run.py``; the CellViT and PanNuke papers). Needs
      ``tissue`` in every sample's metainfo.
    - ``'dataset'``: TP/FP/FN/IoU pooled over the dataset per class (CoNIC
      ``mPQ+``), plus the R² of per-image nucleus counts per class.

    Edge cases: an image without GT nuclei (of a class) has NaN PQ/DQ/SQ (for
    that class) under ``'image'``/``'tissue'`` and is skipped, whatever was
    predicted; under ``'dataset'`` its predictions add false positives. Dice,
    Jaccard, AJI, AJI+ and Dice2 of an image are NaN only when GT and
    prediction are both empty (skipped under ``'image'``/``'tissue'``; add
    nothing under ``'dataset'``); an empty GT with predictions scores 0, an
    empty prediction with GT scores 0. Nothing raises on empty inputs.

    Data samples need ``gt_instance_map`` and ``pred_instance_map`` (PixelData
    ``(1, H, W)``, 0 = background) and, for classes, ``gt_sem_seg`` and
    ``pred_sem_seg`` (the per-pixel type ``0..C``). Class names are
    ``dataset_meta['classes'][1:]`` (index 0 is background, as in the type
    maps) unless ``class_names`` is given.

    Returned values are in [0, 1] (NaN when undefined). Keys: ``bPQ``,
    ``bDQ``, ``bSQ``, ``mPQ``, ``mDQ``, ``mSQ``, ``Dice``, ``Jaccard``,
    ``AJI``, ``AJI+``, ``Dice2``, ``PQ.<class>``, ``DQ.<class>``,
    ``SQ.<class>``; ``mPQ.<tissue>``/``bPQ.<tissue>`` under ``'tissue'``;
    ``R2``/``R2.<class>`` under ``'dataset'``; ``F1_det``, ``P_det``,
    ``R_det``, ``TypeAcc_det`` and ``{F1,P,R}_det.<class>`` with
    ``detection_radius``. With several conventions the keys of the first are
    plain and the others get ``@<convention>`` (``mPQ@tissue``); the
    detection scores, pooled in every convention, appear once.

    Examples (configs)::

        # PanNuke as in the CellViT/PanNuke papers, plus CellVTA's log number
        test_evaluator = dict(
            type='NucleiInstanceMetric', aggregation=['tissue', 'image'],
            detection_radius=12)
        # CoNIC challenge mPQ+ and R², plus CellVTA's per-image mPQ (20x)
        test_evaluator = dict(
            type='NucleiInstanceMetric', aggregation=['dataset', 'image'],
            count_crop=224, detection_radius=6)

    Args:
        aggregation (str | Sequence[str]): ``'image'``, ``'tissue'``,
            ``'dataset'`` or a list of them. Defaults to ``'image'``.
        match_iou (float): PQ pairing threshold (strict). Defaults to 0.5.
        detection_radius (float, optional): Centroid pairing radius in
            pixels for the detection scores (CellViT: 12 at 40x, 6 at 20x);
            None skips them. Defaults to None.
        count_crop (int, optional): Count for R² only nuclei touching the
            central ``count_crop`` window (CoNIC: 224 of 256). Defaults to
            None (all nuclei).
        class_names (Sequence[str], optional): Names of classes ``1..C``,
            overriding the dataset's. ``[]`` evaluates class-agnostically.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        output_dir (str, optional): Where ``--out`` results go: a JSON of the
            per-image statistics and scores and the metrics
            (``nuclei_instance_stats.json``) and, with ``keep_results``, the
            predicted maps. Defaults to None.
        keep_results (bool): Save every prediction as
            ``<output_dir>/<name>.npz`` with ``inst_map`` (int32) and
            ``type_map`` (the per-image label layout, no pickle). Defaults to
            False.
        format_only (bool): Only save predictions (no GT needed, no
            metrics); needs ``output_dir``. Defaults to False.
        prefix (str, optional): Prefix of the metric keys. Defaults to None.
    """

    def __init__(self,
                 aggregation: Union[str, Sequence[str]] = 'image',
                 match_iou: float = 0.5,
                 detection_radius: Optional[float] = None,
                 count_crop: Optional[int] = None,
                 class_names: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 output_dir: Optional[str] = None,
                 keep_results: bool = False,
                 format_only: bool = False,
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(
            collect_device=collect_device, prefix=prefix, **kwargs)
        aggregations = [aggregation] if isinstance(aggregation, str) else \
            list(aggregation)
        bad = [a for a in aggregations if a not in AGGREGATIONS]
        if not aggregations or bad:
            raise ValueError(
                f'NucleiInstanceMetric: aggregation={aggregation!r} is not '
                f'valid; use one of {list(AGGREGATIONS)} or a list of them.')
        if match_iou < 0:
            raise ValueError(f'NucleiInstanceMetric: match_iou must be >= 0, '
                             f'got {match_iou}.')
        if detection_radius is not None and detection_radius <= 0:
            raise ValueError('NucleiInstanceMetric: detection_radius must be '
                             f'> 0 pixels or None, got {detection_radius}.')
        if count_crop is not None and count_crop <= 0:
            raise ValueError('NucleiInstanceMetric: count_crop must be > 0 '
                             f'pixels or None, got {count_crop}.')
        if format_only and not output_dir:
            raise ValueError('NucleiInstanceMetric: format_only=True saves '
                             'predictions only and needs `output_dir`.')
        self.aggregations = aggregations
        self.match_iou = match_iou
        self.detection_radius = detection_radius
        self.count_crop = count_crop
        self.class_names = None if class_names is None else \
            list(class_names)
        self.output_dir = output_dir
        self.keep_results = keep_results or format_only
        self.format_only = format_only
        if self.output_dir and is_main_process():
            mkdir_or_exist(self.output_dir)
        self._counter = 0

    # ------------------------------------------------------------------ #
    def _nuclei_classes(self) -> List[str]:
        if self.class_names is not None:
            return self.class_names
        meta = self.dataset_meta or {}
        if 'classes' not in meta:
            raise ValueError(
                'NucleiInstanceMetric: the dataset has no `classes` in its '
                'metainfo; pass `class_names=[...]` (nucleus classes, '
                'background excluded) in the evaluator config.')
        return [str(c) for c in list(meta['classes'])[1:]]

    def _sample_name(self, sample: Any) -> str:
        img_path = _get(sample, 'img_path')
        index = _get(sample, 'img_index')
        if img_path is not None:
            name = osp.splitext(osp.basename(str(img_path)))[0]
            if index is not None:
                name = f'{name}_{int(index)}'
                fold = _get(sample, 'fold')
                if fold is not None:
                    name = f'fold{fold}_{name}'
            return name
        if _get(sample, 'sample_idx') is not None:
            return f'sample_{int(_get(sample, "sample_idx"))}'
        self._counter += 1
        return f'rank{get_rank()}_{self._counter - 1}'

    @staticmethod
    def _map(sample: Any, key: str, name: str,
             required: bool = True) -> Optional[np.ndarray]:
        field = _get(sample, key)
        if field is None:
            if required:
                raise KeyError(
                    f'NucleiInstanceMetric: data sample {name!r} has no '
                    f'`{key}`; the model must predict `pred_instance_map` '
                    '(and `pred_sem_seg` for types) and the pipeline must '
                    'pack `gt_instance_map` and `gt_sem_seg`.')
            return None
        return _to_numpy_map(field)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce every sample to its statistics (small count arrays).

        Args:
            data_batch (Any): Unused.
            data_samples (Sequence[dict]): Model outputs with GT fields.
        """
        class_names = self._nuclei_classes()
        for sample in data_samples:
            name = self._sample_name(sample)
            pred_inst = self._map(sample, 'pred_instance_map', name)
            pred_type = self._map(sample, 'pred_sem_seg', name, False)
            if self.keep_results and self.output_dir:
                self._save_prediction(name, pred_inst, pred_type)
            if self.format_only:
                continue
            gt_inst = self._map(sample, 'gt_instance_map', name)
            gt_type = self._map(sample, 'gt_sem_seg', name, False)
            try:
                stats = nuclei_image_stats(
                    gt_inst, gt_type, pred_inst, pred_type,
                    len(class_names), self.match_iou, self.detection_radius,
                    self.count_crop)
            except (TypeError, ValueError) as err:
                raise type(err)(f'NucleiInstanceMetric, sample {name!r}: '
                                f'{err}') from err
            tissue = _get(sample, 'tissue')
            stats.update(name=name,
                         tissue=None if tissue is None else str(tissue))
            self.results.append(stats)

    def _save_prediction(self, name: str, inst: np.ndarray,
                         types: Optional[np.ndarray]) -> None:
        mkdir_or_exist(self.output_dir)
        arrays = dict(inst_map=inst.astype(np.int32))
        if types is not None:
            arrays['type_map'] = types.astype(np.int32)
        np.savez_compressed(osp.join(self.output_dir, f'{name}.npz'),
                            **arrays)

    # ------------------------------------------------------------------ #
    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Aggregate the per-image statistics of the whole dataset.

        Args:
            results (list): Per-image statistics gathered from all ranks.

        Returns:
            dict[str, float]: The metrics (see the class docstring).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            logger.info(f'Predictions saved to {self.output_dir}')
            return OrderedDict()
        if len(results) == 0:
            print_log('NucleiInstanceMetric: no image was evaluated.',
                      logger)
            return OrderedDict()
        class_names = self._nuclei_classes()
        tissues = [r.get('tissue') for r in results]
        meta = self.dataset_meta or {}
        metrics: Dict[str, float] = OrderedDict()
        by_convention = OrderedDict()
        for i, agg in enumerate(self.aggregations):
            if agg == 'tissue' and any(t is None for t in tissues):
                missing = next(r['name'] for r in results
                               if r.get('tissue') is None)
                raise ValueError(
                    "NucleiInstanceMetric: aggregation='tissue' needs "
                    f'`tissue` in the metainfo of every sample; {missing!r} '
                    'has none. Use a dataset that sets it (e.g. '
                    'PanNukeDataset) and keep it in the packer\'s meta_keys, '
                    "or use aggregation='image'.")
            scores = aggregate_nuclei_stats(
                results, agg, class_names,
                tissues=tissues if agg == 'tissue' else None,
                tissue_order=meta.get('tissue_types'),
                with_detection=i == 0)
            by_convention[agg] = scores
            suffix = '' if i == 0 else f'@{agg}'
            metrics.update((k + suffix, v) for k, v in scores.items())
        self._log_tables(by_convention, class_names, results, logger)
        if self.output_dir and is_main_process():
            self._dump_stats(results, by_convention, class_names)
        return metrics

    # ------------------------------------------------------------------ #
    @staticmethod
    def _fmt(value: float) -> str:
        return 'nan' if value is None or math.isnan(value) else \
            f'{value:.4f}'

    def _log_tables(self, by_convention: Dict[str, Dict[str, float]],
                    class_names: List[str], results: list,
                    logger: MMLogger) -> None:
        """Summary (one column per convention), per class, detection and
        per tissue tables."""
        fmt = self._fmt
        aggs = list(by_convention)
        summary = PrettyTable()
        summary.title = ('Nuclei instance metrics, aggregation: ' +
                         ' | '.join(aggs))
        summary.field_names = ['Metric'] + [
            AGGREGATION_LABELS[a] for a in aggs]
        rows = list(IMAGE_LEVEL_KEYS) + ['R2']
        for key in rows:
            if any(key in by_convention[a] for a in aggs):
                summary.add_row([key] + [
                    fmt(by_convention[a][key]) if key in by_convention[a]
                    else '-' for a in aggs
                ])
        legend = '\n'.join(f'  {a}: {AGGREGATIONS[a]}' for a in aggs)
        print_log(f'\n{summary.get_string()}\n{legend}', logger)

        for agg, scores in by_convention.items():
            if not class_names:
                break
            cols = [c for c in ('PQ', 'DQ', 'SQ', 'R2')
                    if f'{c}.{class_names[0]}' in scores]
            per_class = PrettyTable()
            per_class.title = f'Per class, aggregation: {agg}'
            per_class.field_names = ['Class'] + cols
            for name in class_names:
                per_class.add_row(
                    [name] + [fmt(scores[f'{c}.{name}']) for c in cols])
            print_log('\n' + per_class.get_string(), logger)

        first = by_convention[aggs[0]]
        if 'F1_det' in first:
            det = PrettyTable()
            det.title = (f'Detection, centroids paired within '
                         f'{self.detection_radius} px, pooled over images')
            det.field_names = ['Class', 'F1', 'Precision', 'Recall']
            det.add_row(['all nuclei'] + [
                fmt(first[k]) for k in ('F1_det', 'P_det', 'R_det')])
            for name in class_names:
                det.add_row([name] + [
                    fmt(first[f'{k}.{name}'])
                    for k in ('F1_det', 'P_det', 'R_det')
                ])
            print_log(f'\n{det.get_string()}\n  type accuracy of pairs: '
                      f'{fmt(first["TypeAcc_det"])}', logger)

        if 'tissue' in by_convention:
            scores = by_convention['tissue']
            per_tissue = PrettyTable()
            per_tissue.title = 'Per tissue, mean over its images'
            per_tissue.field_names = ['Tissue', 'images', 'bPQ', 'mPQ']
            counts: Dict[str, int] = {}
            for r in results:
                counts[r['tissue']] = counts.get(r['tissue'], 0) + 1
            for key in scores:
                if key.startswith('bPQ.'):
                    t = key[4:]
                    per_tissue.add_row([
                        t, counts.get(t, 0),
                        fmt(scores[key]),
                        fmt(scores.get(f'mPQ.{t}', float('nan')))
                    ])
            print_log('\n' + per_tissue.get_string(), logger)

    def _dump_stats(self, results: list, by_convention: dict,
                    class_names: List[str]) -> None:

        def clean(value):
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            if isinstance(value, np.ndarray):
                return clean(value.tolist())
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, float) and math.isnan(value):
                return None
            return value

        images = []
        for record, scores in zip(results, image_score_records(results)):
            entry = dict(name=record['name'], tissue=record.get('tissue'))
            entry['scores'] = scores
            entry['stats'] = {
                k: v
                for k, v in record.items() if k not in ('name', 'tissue')
            }
            images.append(entry)
        payload = dict(
            classes=class_names,
            slots='index 0 = all nuclei (binary), index c = class c',
            match_iou=self.match_iou,
            detection_radius=self.detection_radius,
            count_crop=self.count_crop,
            metrics=by_convention,
            images=images)
        path = osp.join(self.output_dir, STATS_FILE)
        with open(path, 'w') as f:
            json.dump(clean(payload), f, indent=1)
        print_log(f'Per-image nuclei statistics written to {path}',
                  MMLogger.get_current_instance())
