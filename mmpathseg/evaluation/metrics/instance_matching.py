# Copyright (c) mmpathseg contributors. All rights reserved.
"""Overlaps and pairings between two instance maps, without one mask per
instance.

Every function works on a sparse list of overlapping ``(gt, pred)`` pairs
built from a single joint histogram of the two maps, so its cost is one pass
over the pixels plus work proportional to the number of overlapping pairs
(the per-instance formulation of HoVer-Net's ``stats_utils`` builds one mask
per instance and is quadratic in practice).

Conventions: instance maps are integer ``(H, W)`` arrays, 0 is background and
ids are any positive integers (not necessarily contiguous). Instances are
indexed ``0..N-1`` in ascending id order, which is the order HoVer-Net's
``remap_label`` gives them, so ties are broken the same way.
"""
from typing import NamedTuple, Optional, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mmpathseg.ops import label_areas, relabel_pairs, use_compiled

# Above this many pixels per possible id, ids are found with np.unique
# instead of a look-up table of size max(id) + 1.
_LUT_IDS_PER_PIXEL = 2


class CompactLabels(NamedTuple):
    """An instance map relabelled to ``0..N`` in ascending id order.

    Attributes:
        labels (np.ndarray): ``(H, W)`` int64, 0 = background, ``k + 1`` =
            the ``k``-th instance.
        ids (np.ndarray): ``(N, )`` original ids, ascending.
        areas (np.ndarray): ``(N, )`` int64 pixel counts.
    """
    labels: np.ndarray
    ids: np.ndarray
    areas: np.ndarray

    @property
    def num(self) -> int:
        return len(self.ids)


class Overlaps(NamedTuple):
    """The overlapping instance pairs of a GT and a predicted map.

    Attributes:
        gt (CompactLabels): GT instances.
        pred (CompactLabels): predicted instances.
        pair_gt (np.ndarray): ``(K, )`` GT index (``0..Ng-1``) of each pair,
            pairs sorted by (GT index, pred index).
        pair_pred (np.ndarray): ``(K, )`` predicted index of each pair.
        inter (np.ndarray): ``(K, )`` int64 intersection areas (> 0).
        union (np.ndarray): ``(K, )`` int64 union areas.
    """
    gt: CompactLabels
    pred: CompactLabels
    pair_gt: np.ndarray
    pair_pred: np.ndarray
    inter: np.ndarray
    union: np.ndarray

    @property
    def iou(self) -> np.ndarray:
        """``(K, )`` float64 IoU of each pair, ``inter / union``."""
        return self.inter / self.union


def _check_instance_map(inst_map: np.ndarray, name: str) -> np.ndarray:
    inst_map = np.asarray(inst_map)
    if inst_map.dtype == bool or not np.issubdtype(inst_map.dtype,
                                                   np.integer):
        raise TypeError(f'{name} must hold integer instance ids (0 = '
                        f'background), got dtype {inst_map.dtype}; convert '
                        'it with `.astype(np.int32)` if it is integral.')
    if inst_map.ndim != 2:
        raise ValueError(f'{name} must be (H, W), got shape '
                         f'{inst_map.shape}.')
    return inst_map


def _id_lut(inst_map: np.ndarray,
            name: str,
            compiled: bool = False) -> Optional[tuple]:
    """``(ids, areas, lut)`` with ``lut`` mapping a raw id to its compact
    index (``0..N``), or None when the ids are too sparse for a table.
    ``compiled``: count with :func:`mmpathseg.ops.label_areas`."""
    if inst_map.size == 0:
        return None
    high = int(inst_map.max())
    # The compiled count checks int32 ids itself.
    low = 0 if compiled and inst_map.dtype == np.int32 else int(
        inst_map.min())
    if low < 0:
        raise ValueError(f'{name} holds the negative id {low}; ids must be '
                         '>= 0 (0 = background).')
    if high > _LUT_IDS_PER_PIXEL * inst_map.size:
        return None
    if compiled:
        try:
            counts = label_areas(inst_map, high)
        except ValueError as err:
            raise ValueError(f'{name} holds a negative id ({err}); ids must '
                             'be >= 0 (0 = background).') from None
    else:
        counts = np.bincount(inst_map.ravel().astype(np.intp, copy=False))
    ids = np.flatnonzero(counts[1:]) + 1
    lut = np.zeros(high + 1, np.int64)
    lut[ids] = np.arange(1, len(ids) + 1)
    return ids.astype(np.int64), counts[ids].astype(np.int64), lut


def compact_labels(inst_map: np.ndarray, name: str = 'instance map'
                   ) -> CompactLabels:
    """Relabel an instance map to ``0..N`` keeping the order of the ids.

    Args:
        inst_map (np.ndarray): ``(H, W)`` integer map, 0 = background.
        name (str): How to call the map in error messages.

    Returns:
        CompactLabels: The relabelled map, the original ids and the areas.
    """
    inst_map = _check_instance_map(inst_map, name)
    if inst_map.size == 0:
        return CompactLabels(
            np.zeros(inst_map.shape, np.int64), np.zeros(0, np.int64),
            np.zeros(0, np.int64))
    table = _id_lut(inst_map, name)
    if table is not None:
        ids, areas, lut = table
        return CompactLabels(lut[inst_map], ids, areas)
    flat = inst_map.ravel().astype(np.int64, copy=False)
    uniq, inverse, counts = np.unique(
        flat, return_inverse=True, return_counts=True)
    if uniq[0] == 0:
        ids, areas, labels = uniq[1:], counts[1:], inverse
    else:
        ids, areas, labels = uniq, counts, inverse + 1
    return CompactLabels(
        labels.reshape(inst_map.shape).astype(np.int64, copy=False),
        ids.astype(np.int64), areas.astype(np.int64))


def _pair_counts(keys: np.ndarray, num_bins: int, size: int) -> tuple:
    """Distinct keys and their counts (a table when it is small)."""
    if num_bins <= _LUT_IDS_PER_PIXEL * size:
        counts = np.bincount(keys, minlength=num_bins)
        keys = np.flatnonzero(counts)
        return keys, counts[keys]
    return np.unique(keys, return_counts=True)


def _overlaps_compiled(gt_inst: np.ndarray, pred_inst: np.ndarray
                       ) -> Optional[Overlaps]:
    """:func:`instance_overlaps` with one compiled pass over both maps
    (:func:`mmpathseg.ops.relabel_pairs`); None when an id table would be
    too large."""
    gt_table = _id_lut(gt_inst, 'GT instance map', compiled=True)
    pred_table = _id_lut(pred_inst, 'predicted instance map', compiled=True)
    if gt_table is None or pred_table is None:
        return None
    max_pairs = int(min(gt_table[1].sum(), pred_table[1].sum()))
    gt_labels, pred_labels, keys, stride = relabel_pairs(
        gt_inst, pred_inst, gt_table[2], pred_table[2], max_pairs)
    gt = CompactLabels(gt_labels, gt_table[0], gt_table[1])
    pred = CompactLabels(pred_labels, pred_table[0], pred_table[1])
    keys, counts = _pair_counts(keys, (gt.num + 1) * stride, gt_inst.size)
    return _overlaps_from_keys(gt, pred, keys, counts, stride)


def _overlaps_from_keys(gt: CompactLabels, pred: CompactLabels,
                        keys: np.ndarray, counts: np.ndarray,
                        stride: int) -> Overlaps:
    pair_gt = keys // stride - 1
    pair_pred = keys % stride - 1
    inter = counts.astype(np.int64)
    union = gt.areas[pair_gt] + pred.areas[pair_pred] - inter
    return Overlaps(gt, pred, pair_gt, pair_pred, inter, union)


def instance_overlaps(gt_inst: np.ndarray,
                      pred_inst: np.ndarray,
                      backend: str = 'auto') -> Overlaps:
    """All overlapping ``(gt, pred)`` instance pairs with their areas.

    One joint histogram of the pixel-wise id pairs gives every intersection.

    Args:
        gt_inst (np.ndarray): ``(H, W)`` GT instance map.
        pred_inst (np.ndarray): ``(H, W)`` predicted instance map.
        backend (str): ``'auto'`` (the compiled kernel of
            :mod:`mmpathseg.ops` when built), ``'compiled'`` or ``'numpy'``;
            all give the same result. Defaults to ``'auto'``.

    Returns:
        Overlaps: The compact maps and the sparse list of pairs.
    """
    gt_inst = _check_instance_map(gt_inst, 'GT instance map')
    pred_inst = _check_instance_map(pred_inst, 'predicted instance map')
    if gt_inst.shape != pred_inst.shape:
        raise ValueError(f'GT instance map {gt_inst.shape} and predicted '
                         f'instance map {pred_inst.shape} differ in shape; '
                         'resize the prediction to the GT size first.')
    if gt_inst.size and use_compiled(backend):
        overlaps = _overlaps_compiled(gt_inst, pred_inst)
        if overlaps is not None:
            return overlaps
    gt = compact_labels(gt_inst, 'GT instance map')
    pred = compact_labels(pred_inst, 'predicted instance map')
    g, p = gt.labels.ravel(), pred.labels.ravel()
    both = (g > 0) & (p > 0)
    stride = pred.num + 1
    keys, counts = _pair_counts(g[both] * stride + p[both],
                                (gt.num + 1) * stride, g.size)
    return _overlaps_from_keys(gt, pred, keys, counts, stride)


def max_weight_pairing(pair_gt: np.ndarray, pair_pred: np.ndarray,
                       weight: np.ndarray, num_gt: int,
                       num_pred: int) -> np.ndarray:
    """One-to-one pairing of maximal total weight over the given edges.

    This equals ``scipy.optimize.linear_sum_assignment(-W)`` on the dense
    ``(num_gt, num_pred)`` matrix ``W`` that holds ``weight`` on the edges and
    0 elsewhere, with zero-weight assignments dropped (HoVer-Net's AJI+ and
    its PQ for ``match_iou < 0.5``). It is solved per connected component of
    the edge graph, so the dense matrix is never built. When several pairings
    reach the same total, the one chosen may differ from the dense solver's.

    Args:
        pair_gt (np.ndarray): ``(K, )`` GT index of each edge.
        pair_pred (np.ndarray): ``(K, )`` predicted index of each edge.
        weight (np.ndarray): ``(K, )`` positive weights.
        num_gt (int): Number of GT instances.
        num_pred (int): Number of predicted instances.

    Returns:
        np.ndarray: Indices into the edge list of the chosen pairs, sorted.
    """
    num_edges = len(pair_gt)
    if num_edges == 0:
        return np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(num_edges), (pair_gt, num_gt + pair_pred)),
                       shape=(num_gt + num_pred, num_gt + num_pred))
    _, node_comp = connected_components(graph, directed=False)
    edge_comp = node_comp[pair_gt]
    edges_per_comp = np.bincount(edge_comp)
    lonely = edges_per_comp[edge_comp] == 1
    chosen = [np.flatnonzero(lonely)]
    shared = np.flatnonzero(~lonely)
    if len(shared):
        order = shared[np.argsort(edge_comp[shared], kind='stable')]
        splits = np.flatnonzero(np.diff(edge_comp[order])) + 1
        for edges in np.split(order, splits):
            rows, row_idx = np.unique(pair_gt[edges], return_inverse=True)
            cols, col_idx = np.unique(pair_pred[edges], return_inverse=True)
            dense = np.zeros((len(rows), len(cols)))
            dense[row_idx, col_idx] = weight[edges]
            edge_of = np.full((len(rows), len(cols)), -1, np.int64)
            edge_of[row_idx, col_idx] = edges
            r, c = linear_sum_assignment(-dense)
            picked = edge_of[r, c]
            chosen.append(picked[(picked >= 0) & (dense[r, c] > 0)])
    return np.sort(np.concatenate(chosen))


def match_instances(overlaps: Overlaps,
                    match_iou: float = 0.5) -> np.ndarray:
    """Unique GT/prediction pairs for PQ (HoVer-Net ``get_fast_pq``).

    For ``match_iou >= 0.5`` the pairs are all pairs with IoU > ``match_iou``
    (unique by construction); below 0.5 the pairing of maximal total IoU is
    found first and the pairs with IoU > ``match_iou`` are kept.

    Args:
        overlaps (Overlaps): From :func:`instance_overlaps`.
        match_iou (float): IoU threshold, strict. Defaults to 0.5.

    Returns:
        np.ndarray: Indices into the pair list of the matched pairs.
    """
    if match_iou < 0:
        raise ValueError(f'match_iou must be >= 0, got {match_iou}.')
    iou = overlaps.iou
    if match_iou >= 0.5:
        return np.flatnonzero(iou > match_iou)
    picked = max_weight_pairing(overlaps.pair_gt, overlaps.pair_pred, iou,
                                overlaps.gt.num, overlaps.pred.num)
    return picked[iou[picked] > match_iou]


def aji_sums(overlaps: Overlaps) -> Tuple[int, int]:
    """Intersection and union sums of the MoNuSeg AJI.

    Each GT instance is paired with the prediction of highest IoU (ties: the
    lowest predicted index; a prediction may serve several GTs). The union
    also takes the area of every GT without an overlapping prediction and of
    every prediction chosen by no GT. AJI = inter / union.

    Args:
        overlaps (Overlaps): From :func:`instance_overlaps`.

    Returns:
        tuple[int, int]: ``(inter, union)``.
    """
    gt, pred = overlaps.gt, overlaps.pred
    if len(overlaps.pair_gt) == 0:
        return 0, int(gt.areas.sum() + pred.areas.sum())
    iou = overlaps.iou
    order = np.lexsort((overlaps.pair_pred, -iou, overlaps.pair_gt))
    first = np.ones(len(order), bool)
    first[1:] = overlaps.pair_gt[order[1:]] != overlaps.pair_gt[order[:-1]]
    best = order[first]
    inter = int(overlaps.inter[best].sum())
    union = int(overlaps.union[best].sum())
    gt_used = np.zeros(gt.num, bool)
    gt_used[overlaps.pair_gt[best]] = True
    pred_used = np.zeros(pred.num, bool)
    pred_used[overlaps.pair_pred[best]] = True
    union += int(gt.areas[~gt_used].sum() + pred.areas[~pred_used].sum())
    return inter, union


def aji_plus_sums(overlaps: Overlaps) -> Tuple[int, int]:
    """Intersection and union sums of AJI+ (one-to-one pairing).

    GT and predictions are paired one-to-one maximising the total IoU
    (HoVer-Net ``get_fast_aji_plus``); unpaired GT and predicted areas are
    added to the union. AJI+ = inter / union.

    Args:
        overlaps (Overlaps): From :func:`instance_overlaps`.

    Returns:
        tuple[int, int]: ``(inter, union)``.
    """
    gt, pred = overlaps.gt, overlaps.pred
    picked = max_weight_pairing(overlaps.pair_gt, overlaps.pair_pred,
                                overlaps.iou, gt.num, pred.num)
    inter = int(overlaps.inter[picked].sum())
    union = int(overlaps.union[picked].sum())
    gt_used = np.zeros(gt.num, bool)
    gt_used[overlaps.pair_gt[picked]] = True
    pred_used = np.zeros(pred.num, bool)
    pred_used[overlaps.pair_pred[picked]] = True
    union += int(gt.areas[~gt_used].sum() + pred.areas[~pred_used].sum())
    return inter, union


def dice2_sums(overlaps: Overlaps) -> Tuple[int, int]:
    """Sums of the ensemble Dice (Dice2) over all overlapping pairs.

    Returns:
        tuple[int, int]: ``(inter, total)`` with ``total = sum(|g| + |p|)``;
        Dice2 = 2 * inter / total.
    """
    total = overlaps.gt.areas[overlaps.pair_gt] + \
        overlaps.pred.areas[overlaps.pair_pred]
    return int(overlaps.inter.sum()), int(total.sum())
