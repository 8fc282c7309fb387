# Copyright (c) mmpathseg contributors. All rights reserved.
"""Dataset scores from per-image nuclei statistics, under the three
aggregation conventions of the literature.

The per-image statistics come from
:func:`~.instance_stats.nuclei_image_stats` (slot 0 = binary, slot ``c`` =
class ``c``). Per image:

* ``DQ = tp / (tp + fp/2 + fn/2)``, ``SQ = iou_sum / tp`` (0 when
  ``tp = 0``, as HoVer-Net's ``+1e-6``), ``PQ = DQ * SQ``; NaN when the image
  has no GT nucleus in the slot, whatever was predicted (CellViT, PanNuke
  ``run.py``: false positives of a class absent from the GT are not
  penalised). ``mPQ`` of an image = mean of its non-NaN class PQs (NaN if
  all are NaN).
* ``Dice = 2|G∩P| / (|G|+|P|)``, ``Jaccard = |G∩P| / |G∪P|`` on the binary
  foregrounds; ``AJI``, ``AJI+``, ``Dice2`` = their sums' ratios. These are
  NaN only when GT and prediction are both empty (an empty GT with
  predictions scores 0); Dice2 is 0 when nothing overlaps.

Conventions (``aggregation``):

``'image'`` (CellViT / CellVTA logs)
    every score = NaN-skipping mean of the per-image scores;
    ``mPQ`` = mean over images of the image ``mPQ``.
``'tissue'`` (PanNuke official ``run.py``, CellViT/PanNuke papers)
    image-level scores (bPQ, mPQ, Dice, AJI, ...) are NaN-skipping means over
    the images of each tissue, then over tissues (tissues without a valid
    image are skipped); per-class PQ/DQ/SQ are image means over all images,
    as ``run.py`` prints them. Adds ``mPQ.<tissue>`` and ``bPQ.<tissue>``.
``'dataset'`` (CoNIC ``mPQ+``)
    ``tp``, ``fp``, ``fn``, ``iou_sum`` and the pixel/AJI sums are summed
    over all images first, then the scores are computed once; a class
    predicted but absent from the GT of an image adds false positives. A
    class with no GT and no prediction in the whole set is NaN (CoNIC's
    ``1e-6`` would make it 0) and skipped in ``mPQ``. Adds ``R2`` (mean over
    classes of the R² of per-image counts) and ``R2.<class>``.

Detection scores (``F1_det`` ...), when present, are always computed from
counts summed over all images, as HoVer-Net and CellViT do.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np

from .detection_pairing import detection_scores
from .instance_stats import DETECTION_KEYS, SCALAR_KEYS, SLOT_KEYS

AGGREGATIONS = OrderedDict(
    image='per-image scores, NaN-skipping mean over images '
    '(CellViT/CellVTA logs)',
    tissue='per-image scores averaged per tissue, then over tissues '
    '(PanNuke official; per-class PQ image-averaged)',
    dataset='TP/FP/FN/IoU pooled over all images per class '
    '(CoNIC mPQ+)')
# Short names for table headers.
AGGREGATION_LABELS = OrderedDict(
    image='image (CellViT logs)',
    tissue='tissue (PanNuke)',
    dataset='dataset (CoNIC mPQ+)')

# Image-level scores, in table order.
IMAGE_LEVEL_KEYS = ('bPQ', 'bDQ', 'bSQ', 'mPQ', 'mDQ', 'mSQ', 'Dice',
                    'Jaccard', 'AJI', 'AJI+', 'Dice2')


def _div(num, den, empty=np.nan) -> np.ndarray:
    """``num / den`` with ``empty`` where ``den == 0``."""
    num = np.asarray(num, np.float64)
    den = np.asarray(den, np.float64)
    out = np.full(np.broadcast(num, den).shape, empty, np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def nanmean(x: np.ndarray, axis: Optional[int] = None) -> np.ndarray:
    """Mean of the non-NaN entries; NaN (and no warning) when there are
    none."""
    x = np.asarray(x, np.float64)
    valid = ~np.isnan(x)
    total = np.where(valid, x, 0.0).sum(axis=axis)
    return _div(total, valid.sum(axis=axis))


def stack_stats(stats: Sequence[dict]) -> Dict[str, np.ndarray]:
    """Stack per-image statistics along a new first axis (images)."""
    keys = SLOT_KEYS + SCALAR_KEYS
    if all(k in s for s in stats for k in DETECTION_KEYS):
        keys = keys + DETECTION_KEYS
    return {k: np.stack([np.asarray(s[k]) for s in stats]) for k in keys}


def quality_scores(tp, fp, fn, iou_sum, n_gt=None) -> Dict[str, np.ndarray]:
    """DQ, SQ, PQ from (per-image or pooled) counts.

    Args:
        tp, fp, fn, iou_sum (np.ndarray): Counts, any matching shapes.
        n_gt (np.ndarray, optional): GT counts; where 0 every score is NaN
            (per-image convention). Without it a score is NaN only when
            ``tp + fp + fn = 0`` (pooled convention).

    Returns:
        dict: ``DQ``, ``SQ``, ``PQ`` arrays.
    """
    dq = _div(tp, tp + 0.5 * np.asarray(fp) + 0.5 * np.asarray(fn))
    sq = _div(iou_sum, tp, empty=0.0)
    undefined = np.isnan(dq) if n_gt is None else np.asarray(n_gt) == 0
    dq = np.where(undefined, np.nan, dq)
    sq = np.where(undefined, np.nan, sq)
    return dict(DQ=dq, SQ=sq, PQ=dq * sq)


def pixel_scores(s: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Dice, Jaccard, AJI, AJI+, Dice2 from (per-image or pooled) sums."""
    both_empty = (np.asarray(s['pix_gt']) + s['pix_pred']) == 0
    dice2 = _div(2 * np.asarray(s['dice2_inter']), s['dice2_total'],
                 empty=0.0)
    return {
        'Dice': _div(2 * np.asarray(s['pix_inter']),
                     np.asarray(s['pix_gt']) + s['pix_pred']),
        'Jaccard': _div(s['pix_inter'],
                        np.asarray(s['pix_gt']) + s['pix_pred'] -
                        s['pix_inter']),
        'AJI': _div(s['aji_inter'], s['aji_union']),
        'AJI+': _div(s['ajip_inter'], s['ajip_union']),
        'Dice2': np.where(both_empty, np.nan, dice2),
    }


def per_image_scores(s: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Scores of every image from stacked statistics.

    Returns:
        dict: ``DQ``/``SQ``/``PQ`` ``(N, C+1)`` (NaN where the image has no GT
        nucleus of the slot), ``bPQ``... and ``mPQ``... ``(N, )`` and the
        pixel scores ``(N, )``.
    """
    q = quality_scores(s['tp'], s['fp'], s['fn'], s['iou_sum'], s['n_gt'])
    out = dict(q)
    for name in ('PQ', 'DQ', 'SQ'):
        out['b' + name] = q[name][:, 0]
        if q[name].shape[1] > 1:
            out['m' + name] = nanmean(q[name][:, 1:], axis=1)
    out.update(pixel_scores(s))
    return out


def r2_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination, as ``sklearn.metrics.r2_score`` with
    ``force_finite=True``: NaN for fewer than 2 samples, 1 for a perfect fit
    of a constant target, 0 for an imperfect one."""
    y_true = np.asarray(y_true, np.float64)
    y_pred = np.asarray(y_pred, np.float64)
    if len(y_true) < 2:
        return float('nan')
    ss_res = float(((y_true - y_pred)**2).sum())
    ss_tot = float(((y_true - y_true.mean())**2).sum())
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


def _class_keys(out: dict, q: Dict[str, np.ndarray],
                class_names: Sequence[str]) -> None:
    for c, name in enumerate(class_names, start=1):
        for key in ('PQ', 'DQ', 'SQ'):
            out[f'{key}.{name}'] = float(q[key][c])


def aggregate_nuclei_stats(stats: Sequence[dict],
                           aggregation: str,
                           class_names: Sequence[str],
                           tissues: Optional[Sequence[str]] = None,
                           tissue_order: Optional[Sequence[str]] = None,
                           with_detection: bool = True
                           ) -> 'OrderedDict[str, float]':
    """Dataset scores from per-image statistics.

    Args:
        stats (Sequence[dict]): Per-image outputs of
            :func:`~.instance_stats.nuclei_image_stats`.
        aggregation (str): ``'image'``, ``'tissue'`` or ``'dataset'`` (see
            the module docstring).
        class_names (Sequence[str]): Names of classes ``1..C``.
        tissues (Sequence[str], optional): Tissue of every image; needed by
            ``'tissue'``.
        tissue_order (Sequence[str], optional): Order of the per-tissue keys;
            defaults to sorted names. Tissues without images are skipped.
        with_detection (bool): Add the detection scores when the statistics
            have them (they do not depend on ``aggregation``). Defaults to
            True.

    Returns:
        OrderedDict[str, float]: ``bPQ``, ``bDQ``, ``bSQ``, ``mPQ``, ``mDQ``,
        ``mSQ``, ``Dice``, ``Jaccard``, ``AJI``, ``AJI+``, ``Dice2``, then
        ``PQ.<class>``, ``DQ.<class>``, ``SQ.<class>``, then convention
        extras and detection scores. Values in [0, 1] or NaN.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f'aggregation must be one of {list(AGGREGATIONS)}, '
                         f'got {aggregation!r}.')
    if len(stats) == 0:
        raise ValueError('No per-image statistics to aggregate.')
    s = stack_stats(stats)
    num_slots = s['tp'].shape[1]
    if num_slots != len(class_names) + 1:
        raise ValueError(f'The statistics have {num_slots - 1} classes but '
                         f'{len(class_names)} class names were given.')
    out: 'OrderedDict[str, float]' = OrderedDict()
    if aggregation == 'dataset':
        pooled = {k: v.sum(axis=0) for k, v in s.items()}
        q = quality_scores(pooled['tp'], pooled['fp'], pooled['fn'],
                           pooled['iou_sum'])
        pix = pixel_scores(pooled)
        for key in IMAGE_LEVEL_KEYS:
            if key[0] == 'b':
                out[key] = float(q[key[1:]][0])
            elif key[0] == 'm' and key[1:] in q:
                if num_slots > 1:
                    out[key] = float(nanmean(q[key[1:]][1:]))
            else:
                out[key] = float(pix[key])
        _class_keys(out, q, class_names)
        if num_slots > 1:
            r2 = [
                r2_score(s['count_gt'][:, c], s['count_pred'][:, c])
                for c in range(1, num_slots)
            ]
            out['R2'] = float(nanmean(r2))
            for name, value in zip(class_names, r2):
                out[f'R2.{name}'] = value
    else:
        img = per_image_scores(s)
        if aggregation == 'image':
            for key in IMAGE_LEVEL_KEYS:
                if key in img:
                    out[key] = float(nanmean(img[key]))
        else:
            if tissues is None or len(tissues) != len(stats):
                raise ValueError("aggregation='tissue' needs the tissue of "
                                 'every image.')
            tissues = np.asarray([str(t) for t in tissues])
            present = set(tissues.tolist())
            order = [t for t in (tissue_order or sorted(present))
                     if t in present]
            order += sorted(present - set(order))
            per_tissue = {
                key: np.array([nanmean(img[key][tissues == t])
                               for t in order])
                for key in IMAGE_LEVEL_KEYS if key in img
            }
            for key, values in per_tissue.items():
                out[key] = float(nanmean(values))
        q = {k: nanmean(img[k], axis=0) for k in ('PQ', 'DQ', 'SQ')}
        _class_keys(out, q, class_names)
        if aggregation == 'tissue':
            for key in ('mPQ', 'bPQ'):
                if key in per_tissue:
                    for t, value in zip(order, per_tissue[key]):
                        out[f'{key}.{t}'] = float(value)
    if with_detection and 'det_pairs' in s:
        out.update(
            detection_scores(s['det_pairs'].sum(0), s['det_fn'].sum(0),
                             s['det_fp'].sum(0), class_names))
    return out


def image_score_records(stats: Sequence[dict]) -> List[Dict[str, float]]:
    """Per-image scores as plain dicts (for the JSON written with
    ``--out``): ``bPQ``, ``bDQ``, ``bSQ``, ``mPQ``, ``mDQ``, ``mSQ`` and the
    pixel scores, NaN where undefined."""
    if len(stats) == 0:
        return []
    img = per_image_scores(stack_stats(stats))
    keys = [k for k in IMAGE_LEVEL_KEYS if k in img]
    return [{k: float(img[k][i]) for k in keys} for i in range(len(stats))]
