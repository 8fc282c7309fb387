# Copyright (c) mmpathseg contributors. All rights reserved.
"""Per-instance properties of an instance map in one pass: type by majority
vote, type probability, area, centroid, bounding box and contour.

The published code (HoVer-Net ``process``, CellViT
``DetectionCellPostProcessor``) loops over the instances and builds one
full-image mask per instance, so a tile costs O(N * H * W). Here the label
map is read once: the foreground pixels are grouped by instance with one
stable sort, which gives bounding boxes, areas and centroid sums by
``reduceat``; one ``np.bincount`` gives the (instance, type) vote table; the
contours are traced on one packed canvas (:mod:`.batched_contours`). With
the compiled kernels (:mod:`mmpathseg.ops`) the areas, boxes, coordinate sums
and votes come from a single raster pass instead, and each contour is traced
on the map itself. Both give values identical to the reference
(see ``tools/analysis_tools/benchmark_postprocessing.py`` and the tests).
"""
from typing import Dict, NamedTuple, Optional

import numpy as np

from mmpathseg.ops import label_moments, trace_single_contours, use_compiled
from .batched_contours import trace_contours

SCORE_MODES = ('vote', 'mean_prob')


def _empty_table(inst_map: np.ndarray) -> Dict:
    return dict(
        inst_map=inst_map,
        ids=np.zeros(0, dtype=np.int64),
        labels=np.zeros(0, dtype=np.int64),
        scores=np.zeros(0, dtype=np.float64),
        areas=np.zeros(0, dtype=np.int64),
        centroids=np.zeros((0, 2), dtype=np.float64),
        bboxes=np.zeros((0, 4), dtype=np.float32),
        contours=[])


def vote_types(counts: np.ndarray) -> np.ndarray:
    """The HoVer-Net/CellViT type of each instance from its pixel votes.

    The reference sorts ``(type, count)`` pairs by count, stably, and takes
    the first; when that is background (0) and another type is present it
    takes the second. Both cases reduce to: the most frequent *nucleus* type
    (ties -> smallest type id); 0 only when no pixel voted for a nucleus
    type.

    Args:
        counts (np.ndarray): ``(N, K)`` pixel counts of types ``0..K-1``.

    Returns:
        np.ndarray: ``(N,)`` int64 types.
    """
    if counts.shape[1] < 2:
        return np.zeros(counts.shape[0], dtype=np.int64)
    nucleus = counts[:, 1:]
    winner = nucleus.argmax(axis=1) + 1
    return np.where(nucleus.max(axis=1) > 0, winner, 0).astype(np.int64)


class InstanceGroups(NamedTuple):
    """Foreground pixels of an instance map grouped by instance.

    Attributes:
        ids (np.ndarray): ``(N,)`` ascending instance ids.
        areas (np.ndarray): ``(N,)`` int64 pixel counts.
        fg (np.ndarray): ``(P,)`` flat indices of the foreground pixels in
            raster order.
        idx (np.ndarray): ``(P,)`` index into ``ids`` of each ``fg`` pixel
            (uint8, uint16 or int64, the smallest that holds N - 1).
        pixels (np.ndarray): ``(P,)`` the same flat indices grouped by
            instance (instance k at ``starts[k]:starts[k] + areas[k]``),
            raster order inside each group.
        starts (np.ndarray): ``(N,)`` group offsets in ``pixels``.
        ys (np.ndarray): ``(P,)`` rows of ``pixels``.
        xs (np.ndarray): ``(P,)`` columns of ``pixels``.
        boxes (np.ndarray): ``(N, 4)`` int64 (x1, y1, x2, y2), exclusive
            x2, y2.
    """
    ids: np.ndarray
    areas: np.ndarray
    fg: np.ndarray
    idx: np.ndarray
    pixels: np.ndarray
    starts: np.ndarray
    ys: np.ndarray
    xs: np.ndarray
    boxes: np.ndarray


def group_instances(inst_map: np.ndarray) -> InstanceGroups:
    """Group the foreground pixels of an ``(H, W)`` int instance map (ids
    >= 0, at most ``H * W``) by instance, in one pass over the map and one
    stable sort."""
    width = inst_map.shape[1]
    max_id = int(inst_map.max(initial=0))
    flat = inst_map.ravel()
    fg = np.flatnonzero(flat > 0)
    fg_ids = flat[fg]
    id_areas = np.bincount(fg_ids, minlength=max_id + 1)
    ids = np.flatnonzero(id_areas[1:]) + 1
    num = ids.size
    # Index of each pixel's instance, in the smallest unsigned dtype: small
    # integer keys get numpy's radix sort (one pass for 8 bits).
    key_dtype = np.int64
    for small in (np.uint8, np.uint16):
        if num <= np.iinfo(small).max:
            key_dtype = small
            break
    index_of = np.zeros(max_id + 1, dtype=key_dtype)
    index_of[ids] = np.arange(num)
    idx = index_of[fg_ids]
    areas = id_areas[ids].astype(np.int64)
    pixels = fg[np.argsort(idx, kind='stable')]
    starts = np.cumsum(areas) - areas
    ys = pixels // width
    xs = pixels - ys * width
    if num:
        # Raster order inside each group gives the rows.
        boxes = np.stack([
            np.minimum.reduceat(xs, starts), ys[starts],
            np.maximum.reduceat(xs, starts) + 1, ys[starts + areas - 1] + 1
        ], axis=1)
    else:
        boxes = np.zeros((0, 4), dtype=np.int64)
    return InstanceGroups(ids, areas, fg, idx, pixels, starts, ys, xs, boxes)


def _centroids(sum_x: np.ndarray, sum_y: np.ndarray, areas: np.ndarray,
               boxes: np.ndarray) -> np.ndarray:
    """Centroids as m10/m00 of the bounding-box crop plus its offset, in the
    same float64 operations as the reference (integer sums are exact)."""
    cmin, rmin = boxes[:, 0], boxes[:, 1]
    return np.stack([(sum_x - areas * cmin) / areas + cmin,
                     (sum_y - areas * rmin) / areas + rmin], axis=1)


def _fg_types(type_map: Optional[np.ndarray],
              type_probs: Optional[np.ndarray], fg: np.ndarray) -> np.ndarray:
    """The type of each foreground pixel (flat indices ``fg``)."""
    if type_map is None:
        # The argmax is only needed at the nuclei's pixels.
        return type_probs.reshape(type_probs.shape[0], -1)[:, fg].argmax(0)
    fg_types = type_map.ravel()[fg].astype(np.int64, copy=False)
    if fg_types.min(initial=0) < 0:
        raise ValueError('type_map must hold types >= 0.')
    return fg_types


def _mean_prob_scores(type_probs: np.ndarray, labels: np.ndarray,
                      idx: np.ndarray, fg: np.ndarray,
                      areas: np.ndarray) -> np.ndarray:
    """Mean probability of each instance's type over its pixels."""
    prob_fg = type_probs.reshape(type_probs.shape[0], -1)[labels[idx], fg]
    return np.bincount(
        idx, weights=prob_fg.astype(np.float64),
        minlength=labels.size) / areas


def _labels_and_scores(counts: Optional[np.ndarray], areas: np.ndarray,
                       score_mode: str, mean_prob) -> tuple:
    """Types and type probabilities from the ``(N, K)`` vote table
    (``None``: binary nuclei, type 1 with score 1); ``mean_prob(labels)``
    gives the scores of ``score_mode='mean_prob'``."""
    num = areas.size
    if counts is None:
        return np.ones(num, np.int64), np.ones(num, np.float64)
    labels = vote_types(counts)
    if score_mode == 'vote':
        return labels, counts[np.arange(num), labels] / (areas + 1.0e-6)
    return labels, mean_prob(labels)


def _properties_numpy(inst_map, type_map, type_probs, score_mode) -> tuple:
    """ids, areas, boxes, centroids, labels, scores, contours with numpy."""
    groups = group_instances(inst_map)
    ids, areas, idx, fg = groups.ids, groups.areas, groups.idx, groups.fg
    num, starts = ids.size, groups.starts
    centroids = _centroids(
        np.add.reduceat(groups.xs, starts), np.add.reduceat(groups.ys, starts),
        areas, groups.boxes)
    counts = None
    if type_map is not None or type_probs is not None:
        fg_types = _fg_types(type_map, type_probs, fg)
        num_types = int(fg_types.max(initial=0)) + 1
        key = np.multiply(idx, num_types, dtype=np.int64)
        key += fg_types
        counts = np.bincount(
            key, minlength=num * num_types).reshape(num, num_types)
    labels, scores = _labels_and_scores(
        counts, areas, score_mode,
        lambda labels: _mean_prob_scores(type_probs, labels, idx, fg, areas))
    contours = trace_contours(groups.pixels, areas, inst_map.shape[1],
                              groups.boxes)
    return ids, areas, groups.boxes, centroids, labels, scores, contours


def _properties_compiled(inst_map, max_id, type_map, type_probs,
                         score_mode) -> tuple:
    """The same as :func:`_properties_numpy` from one compiled raster pass
    (:func:`mmpathseg.ops.label_moments`)."""
    types, num_types = None, 0
    fg = None if type_probs is None else np.flatnonzero(inst_map.ravel())
    if type_map is not None:
        types = type_map.astype(np.int32, copy=False)
    elif type_probs is not None:
        types = np.zeros(inst_map.size, dtype=np.int32)
        types[fg] = _fg_types(None, type_probs, fg)
        types = types.reshape(inst_map.shape)
    if types is not None:
        num_types = max(int(types.max(initial=0)), 0) + 1
    try:
        moments = label_moments(inst_map, max_id, types, num_types)
    except ValueError as err:
        raise ValueError(f'type_map must hold types >= 0: {err}') from None
    ids = np.flatnonzero(moments['area'][1:]) + 1
    areas = moments['area'][ids]
    boxes = np.stack([
        moments['min_x'][ids], moments['min_y'][ids],
        moments['max_x'][ids] + 1, moments['max_y'][ids] + 1
    ], axis=1)
    centroids = _centroids(moments['sum_x'][ids], moments['sum_y'][ids],
                           areas, boxes)

    def mean_prob(labels):
        index_of = np.zeros(max_id + 1, dtype=np.int64)
        index_of[ids] = np.arange(ids.size)
        idx = index_of[inst_map.ravel()[fg]]
        return _mean_prob_scores(type_probs, labels, idx, fg, areas)

    labels, scores = _labels_and_scores(
        None if types is None else moments['votes'][ids], areas, score_mode,
        mean_prob)
    contours = trace_single_contours(inst_map, moments['first'][ids],
                                     moments['components'][ids], areas)
    multi = np.array([k for k, c in enumerate(contours) if c is None],
                     dtype=np.int64)
    if multi.size:
        # Instances of several components (rare): the numpy path, on them
        # only.
        listed = np.zeros(max_id + 1, dtype=bool)
        listed[ids[multi]] = True
        groups = group_instances(np.where(listed[inst_map], inst_map, 0))
        for k, contour in zip(
                multi.tolist(),
                trace_contours(groups.pixels, groups.areas,
                               inst_map.shape[1], groups.boxes)):
            contours[k] = contour
    return ids, areas, boxes, centroids, labels, scores, contours


def instance_table(inst_map: np.ndarray,
                   type_map: Optional[np.ndarray] = None,
                   type_probs: Optional[np.ndarray] = None,
                   score_mode: str = 'vote',
                   drop_degenerate: bool = True,
                   backend: str = 'auto') -> Dict:
    """Describe every instance of an instance map.

    Args:
        inst_map (np.ndarray): ``(H, W)`` int instance map, 0 background, ids
            > 0 (need not be contiguous).
        type_map (np.ndarray, optional): ``(H, W)`` int per-pixel type
            (0 background, 1..C nucleus types), e.g. the argmax of the NC
            branch. When omitted, the argmax of ``type_probs`` (ties to the
            lower type, as ``np.argmax``/``torch.argmax``), computed at the
            nuclei's pixels only. With neither, every instance is of type 1
            with score 1 (binary nuclei).
        type_probs (np.ndarray, optional): ``(C + 1, H, W)`` type
            probabilities (softmax of the NC branch). Needed for
            ``score_mode='mean_prob'``.
        score_mode (str): ``'vote'`` (HoVer-Net/CellViT ``type_prob``): the
            fraction of the instance's pixels that voted for its type,
            ``count / (area + 1e-6)``. ``'mean_prob'``: the mean probability
            of the instance's type over its pixels. Defaults to ``'vote'``.
        drop_degenerate (bool): drop instances whose contour has fewer than
            3 points, from the table *and* from the returned map. The
            reference skips them in its instance dictionary but leaves them in
            its map; CellViT's metrics rebuild the maps from the dictionary,
            so they never count. Defaults to True.
        backend (str): ``'auto'`` (the compiled kernels of
            :mod:`mmpathseg.ops` when built), ``'compiled'`` or ``'numpy'``;
            all give the same values. Defaults to ``'auto'``.

    Returns:
        dict: with N the number of instances, in ascending id order:

        - ``inst_map`` (np.ndarray): ``(H, W)`` int32, the input without the
          dropped instances.
        - ``ids`` (np.ndarray): ``(N,)`` int64 ids in ``inst_map``.
        - ``labels`` (np.ndarray): ``(N,)`` int64 types, see
          :func:`vote_types`.
        - ``scores`` (np.ndarray): ``(N,)`` float64 type probabilities.
        - ``areas`` (np.ndarray): ``(N,)`` int64 pixel counts.
        - ``centroids`` (np.ndarray): ``(N, 2)`` float64 (x, y), the image
          moments m10/m00, m01/m00.
        - ``bboxes`` (np.ndarray): ``(N, 4)`` float32 (x1, y1, x2, y2) with
          exclusive x2, y2 (the reference's ``[rmin, rmax+1, cmin, cmax+1]``).
        - ``contours`` (list[np.ndarray]): N int32 ``(K, 2)`` (x, y) outer
          contours (``cv2.findContours``, ``RETR_TREE``,
          ``CHAIN_APPROX_SIMPLE``, first contour, as the reference).
    """
    if score_mode not in SCORE_MODES:
        raise ValueError(
            f'score_mode must be one of {SCORE_MODES}, got {score_mode!r}.')
    inst_map = np.asarray(inst_map)
    if inst_map.ndim != 2:
        raise ValueError(f'inst_map must be (H, W), got {inst_map.shape}.')
    if not np.issubdtype(inst_map.dtype, np.integer):
        raise TypeError(
            f'inst_map must hold integer ids, got {inst_map.dtype}.')
    inst_map = inst_map.astype(np.int32, copy=False)
    if type_probs is not None:
        type_probs = np.asarray(type_probs)
        if type_probs.ndim != 3 or type_probs.shape[1:] != inst_map.shape:
            raise ValueError(
                f'type_probs must be (C + 1, {inst_map.shape[0]}, '
                f'{inst_map.shape[1]}), got {type_probs.shape}.')
    if score_mode == 'mean_prob' and type_probs is None:
        raise ValueError("score_mode='mean_prob' needs type_probs "
                         '(C + 1, H, W).')
    if type_map is not None:
        type_map = np.asarray(type_map)
        if type_map.shape != inst_map.shape:
            raise ValueError(f'type_map {type_map.shape} and inst_map '
                             f'{inst_map.shape} must have the same shape.')

    max_id = int(inst_map.max(initial=0))
    if inst_map.min(initial=0) < 0:
        raise ValueError('inst_map ids must be >= 0 (0 is background).')
    if max_id == 0:
        return _empty_table(inst_map)
    if max_id > inst_map.size:
        # Sparse huge ids: compact them so the per-id arrays stay small.
        uniq, inverse = np.unique(inst_map, return_inverse=True)
        compact = inverse.reshape(inst_map.shape).astype(np.int32)
        if uniq[0] != 0:
            compact += 1
            uniq = np.concatenate([[0], uniq])
        table = instance_table(compact, type_map, type_probs, score_mode,
                               drop_degenerate, backend)
        table['inst_map'] = uniq[table['inst_map']].astype(np.int32)
        table['ids'] = uniq[table['ids']].astype(np.int64)
        return table

    if use_compiled(backend):
        props = _properties_compiled(inst_map, max_id, type_map, type_probs,
                                     score_mode)
    else:
        props = _properties_numpy(inst_map, type_map, type_probs, score_mode)
    ids, areas, boxes, centroids, labels, scores, contours = props

    bboxes = boxes.astype(np.float32)
    keep = np.array([c.shape[0] >= 3 for c in contours], dtype=bool)
    if drop_degenerate and not keep.all():
        dropped = np.zeros(max_id + 1, dtype=bool)
        dropped[ids[~keep]] = True
        inst_map = np.where(dropped[inst_map], 0, inst_map).astype(np.int32)
        ids, labels, scores, areas = (ids[keep], labels[keep], scores[keep],
                                      areas[keep])
        centroids, bboxes = centroids[keep], bboxes[keep]
        contours = [c for c, k in zip(contours, keep) if k]
    return dict(
        inst_map=inst_map,
        ids=ids.astype(np.int64),
        labels=labels,
        scores=scores.astype(np.float64),
        areas=areas,
        centroids=centroids,
        bboxes=bboxes,
        contours=contours)
