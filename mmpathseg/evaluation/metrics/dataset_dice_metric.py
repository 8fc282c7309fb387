# Copyright (c) mmpathseg contributors. All rights reserved.
"""Foreground Dice and IoU pooled over a whole test set (Ariadne's Thread and
MLMoE), optionally also averaged per image (LViT)."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmpathseg.registry import METRICS


def _label_map(sample: dict, key: str) -> torch.Tensor:
    try:
        return sample[key]['data'].squeeze()
    except (KeyError, TypeError):
        raise KeyError(f'DatasetDiceMetric: the data sample has no '
                       f'`{key}` (keys: {sorted(sample)}); the model must '
                       'fill pred_sem_seg and the pipeline must load the '
                       'mask (LoadBinaryMask).')


def binary_counts(pred: torch.Tensor, gt: torch.Tensor,
                  foreground: int = 1,
                  ignore_index: int = 255) -> np.ndarray:
    """``[tp, fp, fn, tn]`` of one image's foreground (pixels where ``gt ==
    ignore_index`` are skipped)."""
    valid = gt != ignore_index
    p = (pred == foreground) & valid
    g = (gt == foreground) & valid
    tp = int((p & g).sum())
    fp = int((p & ~g).sum())
    fn = int((~p & g).sum())
    tn = int(valid.sum()) - tp - fp - fn
    return np.array([tp, fp, fn, tn], dtype=np.int64)


def dice_iou(tp: float, fp: float, fn: float,
             empty_score: float = 1.0) -> tuple:
    """Dice ``2tp / (2tp + fp + fn)`` and IoU ``tp / (tp + fp + fn)``;
    ``empty_score`` for both when prediction and truth are empty."""
    denom = tp + fp + fn
    if denom == 0:
        return empty_score, empty_score
    return 2 * tp / (2 * tp + fp + fn), tp / denom


@METRICS.register_module()
class DatasetDiceMetric(BaseMetric):
    """Foreground Dice/IoU with TP/FP/FN summed over all test pixels.

    This is the convention of Ariadne's Thread and MLMoE (torchmetrics
    ``Dice``/``BinaryJaccardIndex`` updated every batch, computed once): for
    one pooled region ``IoU = Dice / (2 - Dice)`` holds exactly, which is
    how their tables can be recognised. mmseg's ``IoUMetric`` ``mIoU``
    averages background and foreground and is not comparable.

    With ``per_image=True`` it also reports ``Dice_image``/``IoU_image``,
    means over images of the per-image scores (LViT's convention; an image
    where prediction and truth are both empty scores ``empty_score``).

    Reports percentages: ``Dice``, ``IoU``, ``Acc`` (pixel accuracy), and
    optionally ``Dice_image``, ``IoU_image``. ``process`` keeps four
    integers per image, so the metric is exact across ranks.

    Args:
        foreground_index (int): Label of the lesion. Defaults to 1.
        ignore_index (int): Defaults to 255.
        per_image (bool): Also report per-image means. Defaults to False.
        empty_score (float): Per-image (and, for an empty test set,
            dataset) score when nothing is predicted or annotated. Defaults
            to 1.0.
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str, optional): Metric name prefix.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 foreground_index: int = 1,
                 ignore_index: int = 255,
                 per_image: bool = False,
                 empty_score: float = 1.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.foreground_index = foreground_index
        self.ignore_index = ignore_index
        self.per_image = per_image
        self.empty_score = empty_score

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = _label_map(sample, 'pred_sem_seg')
            gt = _label_map(sample, 'gt_sem_seg').to(pred)
            if pred.shape != gt.shape:
                raise ValueError(
                    f'DatasetDiceMetric: prediction {tuple(pred.shape)} and '
                    f'ground truth {tuple(gt.shape)} differ for '
                    f"{sample.get('img_path', '?')}; resize the mask in the "
                    'test pipeline or set the model\'s '
                    "test_cfg.output_shape='ori_shape'.")
            self.results.append(
                binary_counts(pred, gt, self.foreground_index,
                              self.ignore_index))

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        counts = np.stack(results) if results else np.zeros((0, 4),
                                                           np.int64)
        tp, fp, fn, tn = counts.sum(0).tolist() if len(counts) else [0] * 4
        dice, iou = dice_iou(tp, fp, fn, self.empty_score)
        total = tp + fp + fn + tn
        metrics = OrderedDict(
            Dice=100 * dice,
            IoU=100 * iou,
            Acc=100 * (tp + tn) / total if total else 100 * self.empty_score)
        if self.per_image:
            per = np.array(
                [dice_iou(*c[:3], self.empty_score) for c in counts.tolist()])
            metrics['Dice_image'] = 100 * float(per[:, 0].mean())
            metrics['IoU_image'] = 100 * float(per[:, 1].mean())
        print_log(
            'foreground over the dataset: ' + ', '.join(
                f'{k} {v:.2f}' for k, v in metrics.items()) +
            f' ({len(counts)} images)',
            logger=MMLogger.get_current_instance())
        return dict(metrics)
