# Copyright (c) mmpathseg contributors. All rights reserved.
"""gIoU, cIoU, N-Acc and T-Acc of generalised referring segmentation.

Every target (answer slot) is one unit. Per target ``j``: ``G_j`` the ground
truth, ``P_j`` the predicted mask, ``I_j = |G_j & P_j|``, ``U_j = |G_j | P_j|``
over non-ignored pixels, ``r_j`` = "the model said [REJ]".

``mode='gsva'`` (GSVA's ``eval_gres``, used by LTSE; the default):

* empty ground truth: ``r_j`` -> a true positive of "no target", gIoU term 1,
  nothing added to cIoU; not ``r_j`` -> a false negative, term 0, and (when
  ``add_fn_union``, gRefCOCO) ``U_j`` = the predicted area is added to the
  cIoU union;
* non-empty ground truth: ``r_j`` -> false positive, else true negative;
  either way the term is ``I_j / U_j`` and ``I_j``, ``U_j`` go into cIoU:
  GSVA scores the mask of a wrongly rejected target as it is.

``mode='rela'`` (ReLA's official evaluator): a non-empty target predicted
"no target" gets ``I_j = 0``; the predicted area of a wrongly accepted empty
target always joins the union.

gIoU = mean of the terms, cIoU = sum I / sum U, N-Acc = TP / (TP + FN) over
empty targets, T-Acc = TN / (TN + FP) over non-empty ones; all in percent.
A value whose denominator is zero (no empty targets for N-Acc, an empty union
for cIoU) is reported as NaN, never as a made-up 0 or 100.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpathseg.registry import METRICS

__all__ = ['ReferringMetric', 'referring_target_stats',
           'aggregate_referring_stats']


def referring_target_stats(gt_masks, pred_masks, gt_empty, pred_rejected,
                           ignore_mask=None) -> np.ndarray:
    """Per-target ``(T, 4)`` int64 rows ``[I, U, gt_empty, rejected]``.

    Args:
        gt_masks, pred_masks: ``(T, H, W)`` bool.
        gt_empty, pred_rejected: ``(T,)`` bool.
        ignore_mask: ``(H, W)`` bool pixels left out, or None.
    """
    gt = torch.as_tensor(gt_masks).bool()
    pred = torch.as_tensor(pred_masks).bool()
    if gt.shape != pred.shape:
        raise ValueError(f'ReferringMetric: pred_masks {tuple(pred.shape)} '
                         f'and gt_masks {tuple(gt.shape)} differ.')
    if ignore_mask is not None:
        valid = ~torch.as_tensor(ignore_mask).bool()
        gt, pred = gt & valid, pred & valid
    inter = (gt & pred).flatten(1).sum(1)
    union = (gt | pred).flatten(1).sum(1)
    empty = torch.as_tensor(gt_empty).bool()
    if bool((empty & gt.flatten(1).any(1)).any()):
        raise ValueError('ReferringMetric: a target flagged empty has '
                         'ground-truth pixels.')
    rej = torch.as_tensor(pred_rejected).bool()
    return torch.stack([inter, union, empty.long(), rej.long()],
                       1).long().cpu().numpy()


def aggregate_referring_stats(stats: np.ndarray,
                              mode: str = 'gsva',
                              add_fn_union: bool = True) -> Dict[str, float]:
    """gIoU / cIoU / N-Acc / T-Acc (percent) from ``(N, 4)`` target rows."""
    if mode not in ('gsva', 'rela'):
        raise ValueError(f'ReferringMetric: mode must be "gsva" or "rela", '
                         f'got {mode!r}.')
    if len(stats) == 0:
        raise ValueError('ReferringMetric: no targets were evaluated.')
    inter = stats[:, 0].astype(np.float64)
    union = stats[:, 1].astype(np.float64)
    empty = stats[:, 2].astype(bool)
    rej = stats[:, 3].astype(bool)
    if mode == 'rela':
        inter = np.where(~empty & rej, 0.0, inter)
    tp, fn = int((empty & rej).sum()), int((empty & ~rej).sum())
    fp, tn = int((~empty & rej).sum()), int((~empty & ~rej).sum())
    terms = np.zeros(len(stats))
    terms[empty & rej] = 1.0
    real = ~empty
    if mode == 'gsva':
        terms[real] = inter[real] / (union[real] + 1e-8)
    else:
        terms[real] = np.where(union[real] > 0,
                               inter[real] / np.maximum(union[real], 1), 0.)
    sum_i = inter[real].sum()
    sum_u = union[real].sum()
    if add_fn_union or mode == 'rela':
        sum_u += union[empty & ~rej].sum()

    def ratio(a, b):
        return float('nan') if b == 0 else 100.0 * a / b

    return OrderedDict(
        gIoU=100.0 * float(terms.mean()),
        cIoU=ratio(sum_i, sum_u),
        **{'N-Acc': ratio(tp, tp + fn), 'T-Acc': ratio(tn, tn + fp)},
        num_targets=int(len(stats)),
        num_empty=int(empty.sum()))


@METRICS.register_module()
class ReferringMetric(BaseMetric):
    """gIoU, cIoU, N-Acc, T-Acc over referring targets (module docstring).

    Args:
        mode (str): ``'gsva'`` (default) or ``'rela'``.
        add_fn_union (bool): GSVA's gRefCOCO rule (predicted area of a
            wrongly accepted empty target joins the cIoU union); False is
            GSVA's RefZOM rule. Defaults to True.
        empty_mask_is_rejection (bool): Also count an all-background
            predicted mask as a rejection (scoring models without [REJ] the
            LISA way). Defaults to False: only [REJ] rejects.
        group_by (str, optional): A metainfo key (e.g. ``'magnification'``)
            whose values also get their own ``<value>/gIoU`` etc.
        collect_device, prefix: see :class:`mmengine.evaluator.BaseMetric`.

    Needs in each data sample: ``gt_masks``, ``gt_empty``, ``pred_masks``,
    ``pred_rejected`` and optionally ``ignore_mask``.
    """
    default_prefix = 'referring'

    def __init__(self,
                 mode: str = 'gsva',
                 add_fn_union: bool = True,
                 empty_mask_is_rejection: bool = False,
                 group_by: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if mode not in ('gsva', 'rela'):
            raise ValueError(f'ReferringMetric: mode must be "gsva" or '
                             f'"rela", got {mode!r}.')
        self.mode = mode
        self.add_fn_union = add_fn_union
        self.empty_mask_is_rejection = empty_mask_is_rejection
        self.group_by = group_by

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            for key in ('gt_masks', 'gt_empty', 'pred_masks',
                        'pred_rejected'):
                if key not in sample:
                    raise KeyError(
                        f'ReferringMetric: data sample lacks {key!r}; the '
                        'model must be a ReferringSegmentor in predict mode.')
            rejected = torch.as_tensor(sample['pred_rejected']).bool()
            if self.empty_mask_is_rejection:
                pred = torch.as_tensor(sample['pred_masks']).bool()
                rejected = rejected | ~pred.flatten(1).any(1)
            stats = referring_target_stats(
                sample['gt_masks'], sample['pred_masks'], sample['gt_empty'],
                rejected, sample.get('ignore_mask'))
            group = None if self.group_by is None else \
                sample.get(self.group_by)
            self.results.append((stats, group))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        stats = np.concatenate([s for s, _ in results])
        metrics = aggregate_referring_stats(stats, self.mode,
                                            self.add_fn_union)
        if self.group_by is not None:
            groups = sorted({g for _, g in results if g is not None})
            for group in groups:
                sub = np.concatenate([s for s, g in results if g == group])
                for k, v in aggregate_referring_stats(
                        sub, self.mode, self.add_fn_union).items():
                    metrics[f'{group}/{k}'] = v
        MMLogger.get_current_instance().info(
            'referring: ' + ', '.join(
                f'{k}={v:.2f}' if isinstance(v, float) else f'{k}={v}'
                for k, v in metrics.items()))
        return metrics
