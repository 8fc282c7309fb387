# Copyright (c) mmpathseg contributors. All rights reserved.
"""Nucleus detection scores from centroid pairing (HoVer-Net / CellViT).

Per image, GT and predicted centroids are paired by the Hungarian algorithm on
their Euclidean distances and pairs farther apart than ``radius`` are dropped
(HoVer-Net ``pair_coordinates``; radius 12 px at 40x, 6 px at 20x in
CellViT). The outcome of an image is three small count arrays that add up
over images, which is how HoVer-Net and CellViT accumulate over a dataset.
"""
from typing import Dict, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

# HoVer-Net weights of (FP_dt, FN_dt, FP_d, FN_d) in the per-type F1.
HOVERNET_TYPE_WEIGHTS = (2, 2, 1, 1)


def pair_centroids(gt_xy: np.ndarray, pred_xy: np.ndarray,
                   radius: float) -> np.ndarray:
    """Pair two point sets, keeping pairs at distance <= ``radius``.

    Args:
        gt_xy (np.ndarray): ``(Ng, 2)`` GT centroids.
        pred_xy (np.ndarray): ``(Np, 2)`` predicted centroids.
        radius (float): Largest distance of a kept pair, in pixels.

    Returns:
        np.ndarray: ``(K, 2)`` int64 ``(gt index, pred index)`` pairs.
    """
    if len(gt_xy) == 0 or len(pred_xy) == 0:
        return np.zeros((0, 2), np.int64)
    dist = cdist(gt_xy, pred_xy)
    rows, cols = linear_sum_assignment(dist)
    keep = dist[rows, cols] <= radius
    return np.stack([rows[keep], cols[keep]], axis=1).astype(np.int64)


def detection_counts(gt_xy: np.ndarray, gt_types: np.ndarray,
                     pred_xy: np.ndarray, pred_types: np.ndarray,
                     num_classes: int, radius: float) -> Dict[str, np.ndarray]:
    """Paired and unpaired centroid counts of one image, by type.

    Types are ``0..num_classes`` (0 = untyped). Empty sets give no pairs; no
    dummy point is added (HoVer-Net's ``compute_stats.py`` adds one at
    ``(0, 0)``, which can pair with a real nucleus near the corner).

    Returns:
        dict: ``det_pairs`` ``(C+1, C+1)`` pairs counted by (GT type, pred
        type); ``det_fn`` ``(C+1, )`` unpaired GT by type; ``det_fp``
        ``(C+1, )`` unpaired predictions by type. All int64.
    """
    n = num_classes + 1
    pairs = pair_centroids(gt_xy, pred_xy, radius)
    gt_t = np.asarray(gt_types, np.int64)
    pred_t = np.asarray(pred_types, np.int64)
    confusion = np.bincount(
        gt_t[pairs[:, 0]] * n + pred_t[pairs[:, 1]],
        minlength=n * n).reshape(n, n)
    gt_paired = np.zeros(len(gt_t), bool)
    gt_paired[pairs[:, 0]] = True
    pred_paired = np.zeros(len(pred_t), bool)
    pred_paired[pairs[:, 1]] = True
    return dict(
        det_pairs=confusion.astype(np.int64),
        det_fn=np.bincount(gt_t[~gt_paired], minlength=n).astype(np.int64),
        det_fp=np.bincount(pred_t[~pred_paired],
                           minlength=n).astype(np.int64))


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float('nan')


def detection_scores(det_pairs: np.ndarray,
                     det_fn: np.ndarray,
                     det_fp: np.ndarray,
                     class_names: Sequence[str],
                     weights: Sequence[float] = HOVERNET_TYPE_WEIGHTS
                     ) -> Dict[str, float]:
    """Detection and per-type F1/precision/recall from summed counts.

    Definitions (HoVer-Net ``compute_stats.py``, CellViT): with ``TP`` the
    number of pairs, ``FP``/``FN`` the unpaired predictions/GT,
    ``F1_det = 2TP / (2TP + FP + FN)``, ``P_det = TP / (TP + FP)``,
    ``R_det = TP / (TP + FN)``, ``TypeAcc_det`` = share of pairs whose types
    agree. For type ``c``, over pairs where either side is ``c``:
    ``tp`` = both ``c``, ``fp_t`` = only pred ``c``, ``fn_t`` = only GT
    ``c``, and ``fp_d``/``fn_d`` = unpaired predictions/GT of type ``c``:
    ``F1_c = 2tp / (2tp + w0 fp_t + w1 fn_t + w2 fp_d + w3 fn_d)``,
    ``P_c = tp / (tp + w0 fp_t + w2 fp_d)``,
    ``R_c = tp / (tp + w1 fn_t + w3 fn_d)``. A 0/0 gives NaN.

    Args:
        det_pairs, det_fn, det_fp: Counts from :func:`detection_counts`,
            summed over images.
        class_names (Sequence[str]): Names of types ``1..C``.
        weights (Sequence[float]): ``(w0, w1, w2, w3)``. Defaults to
            HoVer-Net's ``(2, 2, 1, 1)``.

    Returns:
        dict: ``F1_det``, ``P_det``, ``R_det``, ``TypeAcc_det`` and
        ``F1_det.<class>``, ``P_det.<class>``, ``R_det.<class>``.
    """
    w0, w1, w2, w3 = weights
    tp, fp, fn = det_pairs.sum(), det_fp.sum(), det_fn.sum()
    out = {
        'F1_det': _ratio(2 * tp, 2 * tp + fp + fn),
        'P_det': _ratio(tp, tp + fp),
        'R_det': _ratio(tp, tp + fn),
        'TypeAcc_det': _ratio(np.trace(det_pairs), tp),
    }
    for c, name in enumerate(class_names, start=1):
        tp_c = det_pairs[c, c]
        fp_t = det_pairs[:, c].sum() - tp_c
        fn_t = det_pairs[c, :].sum() - tp_c
        fp_d, fn_d = det_fp[c], det_fn[c]
        out[f'F1_det.{name}'] = _ratio(
            2 * tp_c,
            2 * tp_c + w0 * fp_t + w1 * fn_t + w2 * fp_d + w3 * fn_d)
        out[f'P_det.{name}'] = _ratio(tp_c, tp_c + w0 * fp_t + w2 * fp_d)
        out[f'R_det.{name}'] = _ratio(tp_c, tp_c + w1 * fn_t + w3 * fn_d)
    return out
