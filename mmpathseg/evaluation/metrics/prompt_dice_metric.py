# Copyright (c) mmpathseg contributors. All rights reserved.
"""Per-mask Dice of promptable segmentation, per prompt mode."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from prettytable import PrettyTable

from mmpathseg.registry import METRICS

# Column headers of the SyncSAM / SAM-Med2D tables.
MODE_LABELS = {'box': 'Bbox', '1pt': '1 pt', '3pt': '3 pts', '5pt': '5 pts'}
AGGREGATIONS = ('mask', 'image')
EPS = 1e-7


def _get(sample: Any, key: str, default: Any = None) -> Any:
    if hasattr(sample, 'get'):
        return sample.get(key, default)
    return getattr(sample, key, default)


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value).astype(bool)


def mask_dice(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-mask Dice of ``(K, H, W)`` bool stacks, SAM-Med2D / SyncSAM's
    ``(2|P n G| + 1e-7) / (|P| + |G| + 1e-7)``: two empty masks score 1."""
    inter = (pred & gt).reshape(len(gt), -1).sum(1)
    total = pred.reshape(len(gt), -1).sum(1) + gt.reshape(len(gt), -1).sum(1)
    return (2 * inter + EPS) / (total + EPS)


@METRICS.register_module()
class PromptDiceMetric(BaseMetric):
    """DSC (%) of every prompt mode, at the original resolution.

    Reads ``ori_gt_masks`` ``(K, H0, W0)`` (``LoadPromptMasks(keep_ori=
    True)``) and ``pred_masks_<mode>`` of every data sample (filled by
    ``PromptableSegmentor``), computes one Dice per mask and averages:

    - ``aggregation='mask'``: over all masks of the dataset (SyncSAM,
      SAM-Med2D, MedSAM: their test scripts run one mask per batch, so the
      mean of batch means is the mask mean);
    - ``'image'``: per image first, then over images (IMIS-Bench).

    With ``dataset_key`` the same is reported per value of that metainfo
    key too (e.g. per source dataset for zero-shot tables). Results are
    ``DSC.box``, ``DSC.1pt``, ``DSC.5pt`` (and ``DSC.box/<dataset>``), and a
    table in the layout of the paper's (rows: model, columns: Bbox / 1 pt /
    5 pts; a mode the model was not run with shows ``-``).

    Args:
        modes (Sequence[str]): Modes to report, in column order. Defaults
            to ('box', '1pt', '5pt').
        aggregation (str): ``'mask'`` or ``'image'``. Defaults to 'mask'.
        dataset_key (str, optional): Metainfo key to group by.
        model_name (str): Row label of the table. Defaults to 'ours'.
        collect_device (str): Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix.
    """
    default_prefix: Optional[str] = None

    def __init__(self,
                 modes: Sequence[str] = ('box', '1pt', '5pt'),
                 aggregation: str = 'mask',
                 dataset_key: Optional[str] = None,
                 model_name: str = 'ours',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if aggregation not in AGGREGATIONS:
            raise ValueError(f'PromptDiceMetric: aggregation must be one of '
                             f'{AGGREGATIONS}, got {aggregation!r}.')
        self.modes = tuple(modes)
        self.aggregation = aggregation
        self.dataset_key = dataset_key
        self.model_name = model_name

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        for sample in data_samples:
            gt = _get(sample, 'ori_gt_masks')
            if gt is None:
                raise KeyError(
                    'PromptDiceMetric: a data sample has no `ori_gt_masks`; '
                    'load masks with LoadPromptMasks(keep_ori=True) in the '
                    'test pipeline.')
            gt = _numpy(gt)
            record = dict(
                image=str(_get(sample, 'img_path', '')),
                dataset=str(_get(sample, self.dataset_key, ''))
                if self.dataset_key else '',
                dice={})
            for mode in self.modes:
                pred = _get(sample, f'pred_masks_{mode}')
                if pred is None:
                    continue
                pred = _numpy(pred)
                if pred.shape != gt.shape:
                    raise ValueError(
                        f'PromptDiceMetric: pred_masks_{mode} of '
                        f'{record["image"]} is {pred.shape}, ground truth '
                        f'{gt.shape}: predictions must be at the original '
                        'size.')
                record['dice'][mode] = mask_dice(pred, gt)
            self.results.append(record)

    def _aggregate(self, records: List[dict], mode: str) -> Optional[float]:
        values = [r['dice'][mode] for r in records if mode in r['dice']]
        if not values:
            return None
        if self.aggregation == 'mask':
            return float(np.concatenate(values).mean() * 100)
        return float(np.mean([v.mean() for v in values if len(v)]) * 100)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics: Dict[str, float] = OrderedDict()
        groups = OrderedDict()
        if self.dataset_key:
            for record in results:
                groups.setdefault(record['dataset'], []).append(record)
        for mode in self.modes:
            value = self._aggregate(results, mode)
            if value is not None:
                metrics[f'DSC.{mode}'] = value
            for name, records in groups.items():
                value = self._aggregate(records, mode)
                if value is not None:
                    metrics[f'DSC.{mode}/{name}'] = value
        self._log_table(metrics, groups, len(results),
                        sum(len(next(iter(r['dice'].values()), []))
                            for r in results))
        return metrics

    def _log_table(self, metrics: Dict[str, float], groups: dict,
                   num_images: int, num_masks: int) -> None:
        table = PrettyTable()
        table.title = (f'DSC (%), {num_masks} masks of {num_images} images, '
                       f'mean per {self.aggregation}')
        table.field_names = ['Model'] + [
            MODE_LABELS.get(m, m) for m in self.modes]

        def row(label: str, suffix: str = ''):
            cells = []
            for mode in self.modes:
                value = metrics.get(f'DSC.{mode}{suffix}')
                cells.append('-' if value is None else f'{value:.1f}')
            table.add_row([label] + cells)

        row(self.model_name)
        for name in groups:
            row(f'{self.model_name} / {name}', f'/{name}')
        print_log('\n' + table.get_string(), MMLogger.get_current_instance())
