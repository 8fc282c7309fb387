# Copyright (c) mmpathseg contributors. All rights reserved.
"""Per-image statistics of nuclei instance segmentation and classification.

:func:`nuclei_image_stats` reduces one image to a few small count arrays
from which every PQ-family score of :mod:`.nuclei_aggregation` follows, under
any aggregation convention. The arrays are indexed by *slot*: slot 0 is the
class-agnostic ("binary") result over all nuclei, slot ``c`` (``1..C``) the
result for nuclei of class ``c``.

Definitions (HoVer-Net ``metrics/stats_utils.py``, CoNIC ``get_pq``):

* Matching: a GT and a predicted nucleus are a pair when their IoU is
  > 0.5 (strict); such pairs are unique. Each nucleus has one type (the
  majority type of its pixels, ignoring type 0; 0 when all its pixels are
  type 0). For class ``c`` the pairs are the binary pairs whose two nuclei
  are both of type ``c`` (identical to matching the class-``c`` instance maps
  separately, since the masks are the same).
* ``tp``/``fp``/``fn`` = paired / unpaired predicted / unpaired GT nuclei,
  ``iou_sum`` = sum of the IoUs of the pairs. Predicted nuclei of type 0 are
  counted in slot 0 only.
* ``pix_*``: pixel counts of the binary foregrounds (``inst > 0``) for Dice
  and Jaccard; ``aji_*``/``ajip_*``/``dice2_*``: numerator and denominator
  sums of AJI (MoNuSeg), AJI+ and the ensemble Dice.
* ``count_gt``/``count_pred``: nuclei per slot counted for R²; with
  ``count_crop`` only nuclei with a pixel inside the central
  ``count_crop x count_crop`` window (CoNIC: 224 of 256).
"""
from typing import Dict, Optional

import numpy as np

from .detection_pairing import detection_counts
from .instance_matching import (CompactLabels, aji_plus_sums, aji_sums,
                                dice2_sums, instance_overlaps,
                                match_instances)

# Keys of the per-image statistics that are arrays summed over images.
SLOT_KEYS = ('tp', 'fp', 'fn', 'iou_sum', 'n_gt', 'n_pred', 'count_gt',
             'count_pred')
SCALAR_KEYS = ('pix_inter', 'pix_gt', 'pix_pred', 'aji_inter', 'aji_union',
               'ajip_inter', 'ajip_union', 'dice2_inter', 'dice2_total')
DETECTION_KEYS = ('det_pairs', 'det_fn', 'det_fp')


def instance_types(labels: CompactLabels, type_map: Optional[np.ndarray],
                   num_classes: int, name: str = 'type map') -> np.ndarray:
    """Type of every instance: the majority non-zero type of its pixels.

    Args:
        labels (CompactLabels): The instances.
        type_map (np.ndarray, optional): ``(H, W)`` ints in ``0..C``; None
            types every instance 0.
        num_classes (int): ``C``.
        name (str): How to call the map in error messages.

    Returns:
        np.ndarray: ``(N, )`` int64 types in ``0..C`` (0 when none of the
        instance's pixels has a type); ties go to the lower type.
    """
    if type_map is None or labels.num == 0 or num_classes == 0:
        return np.zeros(labels.num, np.int64)
    type_map = np.asarray(type_map)
    if type_map.shape != labels.labels.shape:
        raise ValueError(f'{name} has shape {type_map.shape} but its '
                         f'instance map has {labels.labels.shape}.')
    if not np.issubdtype(type_map.dtype, np.integer):
        raise TypeError(f'{name} must hold integer classes, got dtype '
                        f'{type_map.dtype}.')
    fg = labels.labels > 0
    types = type_map[fg].astype(np.int64)
    if types.size and (types.min() < 0 or types.max() > num_classes):
        bad = types.min() if types.min() < 0 else types.max()
        raise ValueError(f'{name} holds class {bad} inside a nucleus, '
                         f'outside 0..{num_classes}; check the dataset\'s '
                         '`classes` (index 0 is background) or the model\'s '
                         'number of nucleus classes.')
    n = num_classes + 1
    hist = np.bincount((labels.labels[fg] - 1) * n + types,
                       minlength=labels.num * n).reshape(labels.num, n)
    typed = hist[:, 1:]
    out = typed.argmax(axis=1) + 1
    out[typed.max(axis=1) == 0] = 0
    return out.astype(np.int64)


def instance_centroids(labels: CompactLabels) -> np.ndarray:
    """``(N, 2)`` float64 centroids ``(x, y)`` (mean pixel column, row)."""
    if labels.num == 0:
        return np.zeros((0, 2))
    lab = labels.labels
    rows, cols = np.indices(lab.shape)
    n = labels.num + 1
    cx = np.bincount(lab.ravel(), weights=cols.ravel(), minlength=n)[1:]
    cy = np.bincount(lab.ravel(), weights=rows.ravel(), minlength=n)[1:]
    return np.stack([cx, cy], axis=1) / labels.areas[:, None]


def _slot_counts(types: np.ndarray, num_classes: int,
                 weights: Optional[np.ndarray] = None) -> np.ndarray:
    """Slot 0 = total, slot c = of type c (type-0 nuclei only in slot 0)."""
    per_type = np.bincount(types, weights=weights, minlength=num_classes + 1)
    total = per_type.sum() if weights is None else weights.sum()
    out = per_type.astype(np.float64 if weights is not None else np.int64)
    out[0] = total
    return out


def _in_central_window(labels: CompactLabels, size: int) -> np.ndarray:
    """``(N, )`` bool: the instance has a pixel in the central window."""
    height, width = labels.labels.shape
    top, left = max((height - size) // 2, 0), max((width - size) // 2, 0)
    window = labels.labels[top:top + size, left:left + size]
    present = np.bincount(window.ravel(), minlength=labels.num + 1)[1:] > 0
    return present


def nuclei_image_stats(gt_inst: np.ndarray,
                       gt_type: Optional[np.ndarray],
                       pred_inst: np.ndarray,
                       pred_type: Optional[np.ndarray],
                       num_classes: int,
                       match_iou: float = 0.5,
                       detection_radius: Optional[float] = None,
                       count_crop: Optional[int] = None
                       ) -> Dict[str, np.ndarray]:
    """Statistics of one image (see the module docstring for definitions).

    Args:
        gt_inst (np.ndarray): ``(H, W)`` GT instance ids, 0 = background.
        gt_type (np.ndarray, optional): ``(H, W)`` GT classes ``0..C``;
            None for class-agnostic data (every nucleus type 0).
        pred_inst (np.ndarray): ``(H, W)`` predicted instance ids.
        pred_type (np.ndarray, optional): ``(H, W)`` predicted classes.
        num_classes (int): Number of nucleus classes ``C`` (background
            excluded); 0 for class-agnostic evaluation.
        match_iou (float): PQ pairing threshold (strict). Defaults to 0.5.
        detection_radius (float, optional): When given, centroids are paired
            within this radius (12 px at 40x, 6 px at 20x) and the detection
            counts are added. Defaults to None.
        count_crop (int, optional): Count for R² only the nuclei touching the
            central ``count_crop`` window (CoNIC: 224). Defaults to None
            (all nuclei).

    Returns:
        dict[str, np.ndarray]: ``tp``, ``fp``, ``fn``, ``n_gt``, ``n_pred``,
        ``count_gt``, ``count_pred`` (int64, ``(C+1, )``), ``iou_sum``
        (float64, ``(C+1, )``), the scalar sums ``pix_inter``, ``pix_gt``,
        ``pix_pred``, ``aji_inter``, ``aji_union``, ``ajip_inter``,
        ``ajip_union``, ``dice2_inter``, ``dice2_total`` and, with
        ``detection_radius``, ``det_pairs`` ``(C+1, C+1)``, ``det_fn`` and
        ``det_fp`` ``(C+1, )``.
    """
    if num_classes < 0:
        raise ValueError(f'num_classes must be >= 0, got {num_classes}.')
    ov = instance_overlaps(gt_inst, pred_inst)
    gt_t = instance_types(ov.gt, gt_type, num_classes, 'GT type map')
    pred_t = instance_types(ov.pred, pred_type, num_classes,
                            'predicted type map')

    matched = match_instances(ov, match_iou)
    m_gt, m_pred = ov.pair_gt[matched], ov.pair_pred[matched]
    m_iou = ov.iou[matched]
    same = gt_t[m_gt] == pred_t[m_pred]
    # Pairs of the same type feed slot c; every pair feeds slot 0.
    tp = _slot_counts(gt_t[m_gt][same], num_classes)
    tp[0] = len(matched)
    iou_sum = _slot_counts(gt_t[m_gt][same], num_classes, m_iou[same])
    iou_sum[0] = m_iou.sum()
    n_gt = _slot_counts(gt_t, num_classes)
    n_pred = _slot_counts(pred_t, num_classes)

    if count_crop is None:
        count_gt, count_pred = n_gt, n_pred
    else:
        count_gt = _slot_counts(gt_t[_in_central_window(ov.gt, count_crop)],
                                num_classes)
        count_pred = _slot_counts(
            pred_t[_in_central_window(ov.pred, count_crop)], num_classes)

    gt_fg = ov.gt.labels > 0
    pred_fg = ov.pred.labels > 0
    aji_inter, aji_union = aji_sums(ov)
    ajip_inter, ajip_union = aji_plus_sums(ov)
    dice2_inter, dice2_total = dice2_sums(ov)
    stats = dict(
        tp=tp,
        fp=n_pred - tp,
        fn=n_gt - tp,
        iou_sum=iou_sum,
        n_gt=n_gt,
        n_pred=n_pred,
        count_gt=np.asarray(count_gt, np.int64),
        count_pred=np.asarray(count_pred, np.int64),
        pix_inter=np.int64(np.count_nonzero(gt_fg & pred_fg)),
        pix_gt=np.int64(np.count_nonzero(gt_fg)),
        pix_pred=np.int64(np.count_nonzero(pred_fg)),
        aji_inter=np.int64(aji_inter),
        aji_union=np.int64(aji_union),
        ajip_inter=np.int64(ajip_inter),
        ajip_union=np.int64(ajip_union),
        dice2_inter=np.int64(dice2_inter),
        dice2_total=np.int64(dice2_total))
    if detection_radius is not None:
        stats.update(
            detection_counts(
                instance_centroids(ov.gt), gt_t, instance_centroids(ov.pred),
                pred_t, num_classes, detection_radius))
    return stats
