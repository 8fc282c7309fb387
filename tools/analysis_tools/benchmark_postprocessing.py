# Copyright (c) mmpathseg contributors. All rights reserved.
"""Time the HoVer-Net/CellViT post-processing of mmpathseg against a
straightforward per-instance implementation of the same published algorithm,
measured in the same run on the same synthetic tiles.

The reference (``reference_watershed`` + ``reference_instances`` below) is
written the way HoVer-Net's ``process`` and CellViT's
``DetectionCellPostProcessor`` work: one full-image boolean mask per instance
for the bounding box, moments and contour, then a second loop for the type
vote. mmpathseg's ``instance_table`` reads the label map once. Both are run on
the same NP/HV/NC maps and their outputs are checked to be identical
(instance map, ids, types, type probabilities, centroids, bounding boxes and
contours).

The synthetic tiles imitate a network's output on H&E nuclei: non-overlapping
ellipses (radius 4-9 px, some touching), an exact HV target from the instance
map plus smooth noise, a blurred and noisy two-channel NP softmax and a noisy
type softmax.

Peak memory is measured with ``tracemalloc``, which sees numpy and Python
allocations but not OpenCV's or scikit-image's internal C++ buffers.

Example::

    python tools/analysis_tools/benchmark_postprocessing.py
    python tools/analysis_tools/benchmark_postprocessing.py --repeat 5 \
        --case 256:100 --case 1024:1600
"""
import argparse
import functools
import gc
import importlib
import time
import tracemalloc
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed

from mmpathseg.ops import use_compiled
from mmpathseg.postprocessing import (HoVerNetPostProcessor, foreground_mask,
                                      hover_watershed, instance_table)

# ---------------------------------------------------------------------------
# Synthetic nuclei and network-like outputs
# ---------------------------------------------------------------------------


def synthetic_instances(size: int = 256,
                        num_nuclei: int = 100,
                        num_types: int = 5,
                        seed: int = 0,
                        radius: Tuple[int, int] = (4, 9),
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Random elliptical nuclei, each painted only on background so every
    instance keeps most of its ellipse; neighbours may touch.

    Returns:
        tuple: ``(H, W)`` int32 instance map with ids 1..N and ``(H, W)``
        uint8 type map (types 1..num_types).
    """
    rng = np.random.default_rng(seed)
    inst_map = np.zeros((size, size), dtype=np.int32)
    type_map = np.zeros((size, size), dtype=np.uint8)
    centres: List[Tuple[float, float, float]] = []
    next_id, attempts = 1, 0
    while next_id <= num_nuclei and attempts < num_nuclei * 50:
        attempts += 1
        a, b = rng.uniform(radius[0], radius[1], size=2)
        cx, cy = rng.uniform(0, size, size=2)
        r = max(a, b)
        if any((cx - x)**2 + (cy - y)**2 < (0.85 * (r + q))**2
               for x, y, q in centres):
            continue
        centres.append((cx, cy, r))
        pad = int(np.ceil(r)) + 1
        x0, y0 = int(cx) - pad, int(cy) - pad
        local = np.zeros((2 * pad + 1, 2 * pad + 1), dtype=np.uint8)
        cv2.ellipse(local, (int(cx) - x0, int(cy) - y0),
                    (int(round(a)), int(round(b))),
                    float(rng.uniform(0, 180)), 0, 360, 1, -1)
        ys, xs = np.nonzero(local)
        ys, xs = ys + y0, xs + x0
        inside = (ys >= 0) & (ys < size) & (xs >= 0) & (xs < size)
        ys, xs = ys[inside], xs[inside]
        free = inst_map[ys, xs] == 0
        if free.sum() < 10:
            continue
        inst_map[ys[free], xs[free]] = next_id
        type_map[ys[free], xs[free]] = rng.integers(1, num_types + 1)
        next_id += 1
    return inst_map, type_map


def hv_targets(inst_map: np.ndarray) -> np.ndarray:
    """Horizontal/vertical distance maps of an instance map, in one pass.

    Per instance, the offset of each pixel from the instance's centre of mass
    (rounded to the nearest pixel), negative values divided by the largest
    negative magnitude and positive values by the largest positive one, so
    each instance spans [-1, 1] on both axes (the HoVer-Net target).

    Returns:
        np.ndarray: ``(2, H, W)`` float32, channel 0 horizontal, 1 vertical.
    """
    hv = np.zeros((2, ) + inst_map.shape, dtype=np.float32)
    flat = inst_map.ravel()
    fg = np.flatnonzero(flat)
    if fg.size == 0:
        return hv
    ids = flat[fg]
    ys, xs = np.divmod(fg, inst_map.shape[1])
    count = np.bincount(ids)
    safe = np.maximum(count, 1)
    for channel, coord in enumerate((xs, ys)):
        centre = np.floor(np.bincount(ids, weights=coord) / safe + 0.5)
        offset = (coord - centre[ids]).astype(np.float32)
        low = np.zeros(count.size, dtype=np.float32)
        high = np.zeros(count.size, dtype=np.float32)
        np.minimum.at(low, ids, offset)
        np.maximum.at(high, ids, offset)
        norm = np.where(offset < 0, -low[ids], high[ids])
        hv[channel].ravel()[fg] = np.divide(
            offset, norm, out=np.zeros_like(offset), where=norm > 0)
    return hv


def synthetic_outputs(inst_map: np.ndarray,
                      type_map: np.ndarray,
                      num_types: int = 5,
                      seed: int = 0,
                      noise: float = 0.15
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Network-like NP/HV/NC maps for a ground truth.

    Returns:
        tuple: NP ``(2, H, W)`` softmax, HV ``(2, H, W)`` and NC
        ``(num_types + 1, H, W)`` softmax, all float32.
    """
    rng = np.random.default_rng(seed)
    shape = inst_map.shape

    def smooth_noise(scale):
        return cv2.GaussianBlur(
            rng.normal(0, scale, shape).astype(np.float32), (5, 5), 1.5)

    fg = cv2.GaussianBlur((inst_map > 0).astype(np.float32), (5, 5), 1.0)
    fg = np.clip(fg + smooth_noise(noise * 2), 0, 1)
    np_map = np.stack([1 - fg, fg]).astype(np.float32)
    hv = hv_targets(inst_map) + np.stack([smooth_noise(noise)] * 2)
    logits = np.eye(num_types + 1, dtype=np.float32)[type_map].transpose(
        2, 0, 1) * 3
    logits += rng.normal(0, 1.2, logits.shape).astype(np.float32)
    nc = np.exp(logits - logits.max(0, keepdims=True))
    nc /= nc.sum(0, keepdims=True)
    return np_map, hv.astype(np.float32), nc.astype(np.float32)


# ---------------------------------------------------------------------------
# Per-instance reference (the published algorithm, written out plainly)
# ---------------------------------------------------------------------------


def _ref_remove_small(labels: np.ndarray, min_size: int) -> np.ndarray:
    sizes = np.bincount(labels.ravel())
    labels[(sizes < min_size)[labels]] = 0
    return labels


def reference_watershed(np_prob: np.ndarray,
                        hv_map: np.ndarray,
                        ksize: int = 21,
                        object_size: int = 10) -> np.ndarray:
    """HoVer-Net ``__proc_np_hv`` on an ``(H, W)`` NP map (the 0/1 argmax
    for CellViT, the foreground probability for HoVer-Net)."""
    pred = np.stack([np_prob, hv_map[0], hv_map[1]], axis=-1)
    pred = pred.astype(np.float32)
    blb = np.array(pred[..., 0] >= 0.5, dtype=np.int32)
    blb = ndimage.label(blb)[0]
    blb = _ref_remove_small(blb, 10)
    blb[blb > 0] = 1

    def minmax(x):
        return cv2.normalize(x, None, alpha=0, beta=1,
                             norm_type=cv2.NORM_MINMAX, dtype=cv2.CV_32F)

    h_dir, v_dir = minmax(pred[..., 1]), minmax(pred[..., 2])
    sobelh = 1 - minmax(cv2.Sobel(h_dir, cv2.CV_64F, 1, 0, ksize=ksize))
    sobelv = 1 - minmax(cv2.Sobel(v_dir, cv2.CV_64F, 0, 1, ksize=ksize))
    overall = np.maximum(sobelh, sobelv)
    overall = overall - (1 - blb)
    overall[overall < 0] = 0
    dist = (1.0 - overall) * blb
    dist = -cv2.GaussianBlur(dist, (3, 3), 0)
    overall = np.array(overall >= 0.4, dtype=np.int32)
    marker = blb - overall
    marker[marker < 0] = 0
    marker = ndimage.binary_fill_holes(marker).astype('uint8')
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    marker = cv2.morphologyEx(marker, cv2.MORPH_OPEN, kernel)
    marker = ndimage.label(marker)[0]
    marker = _ref_remove_small(marker, object_size)
    return watershed(dist, markers=marker, mask=blb)


def reference_instances(pred_inst: np.ndarray,
                        pred_type: Optional[np.ndarray]) -> Dict[int, dict]:
    """Per-instance properties, one full-image mask per instance."""
    info = {}
    inst_ids = np.unique(pred_inst)
    for inst_id in inst_ids[inst_ids != 0]:
        inst_map = pred_inst == inst_id
        rows, cols = np.any(inst_map, axis=1), np.any(inst_map, axis=0)
        rmin, rmax = np.where(rows)[0][[0, -1]]
        cmin, cmax = np.where(cols)[0][[0, -1]]
        rmax, cmax = rmax + 1, cmax + 1
        crop = inst_map[rmin:rmax, cmin:cmax].astype(np.uint8)
        moment = cv2.moments(crop)
        contour = cv2.findContours(crop, cv2.RETR_TREE,
                                   cv2.CHAIN_APPROX_SIMPLE)[0]
        contour = np.squeeze(contour[0].astype('int32'))
        if contour.shape[0] < 3 or len(contour.shape) != 2:
            continue
        centroid = np.array(
            [moment['m10'] / moment['m00'], moment['m01'] / moment['m00']])
        contour[:, 0] += cmin
        contour[:, 1] += rmin
        centroid[0] += cmin
        centroid[1] += rmin
        info[int(inst_id)] = dict(
            bbox=np.array([[rmin, cmin], [rmax, cmax]]),
            centroid=centroid,
            contour=contour,
            type=1,
            type_prob=1.0)
    if pred_type is None:
        return info
    for inst_id, inst in info.items():
        (rmin, cmin), (rmax, cmax) = inst['bbox']
        in_crop = pred_inst[rmin:rmax, cmin:cmax] == inst_id
        votes = pred_type[rmin:rmax, cmin:cmax][in_crop]
        types, pixels = np.unique(votes, return_counts=True)
        ranked = sorted(zip(types, pixels), key=lambda x: x[1], reverse=True)
        inst_type = ranked[0][0]
        if inst_type == 0 and len(ranked) > 1:
            inst_type = ranked[1][0]
        inst['type'] = int(inst_type)
        inst['type_prob'] = float(
            dict(ranked)[inst_type] / (np.sum(in_crop) + 1.0e-6))
    return info


def reference_postprocess(np_map: np.ndarray,
                          hv_map: np.ndarray,
                          nc_map: np.ndarray,
                          ksize: int = 21,
                          object_size: int = 10):
    """CellViT's path: argmax NP and NC, watershed, per-instance loop."""
    np_argmax = np.argmax(np_map, axis=0).astype(np.float32)
    pred_type = np.argmax(nc_map, axis=0).astype(np.int32)
    pred_inst = reference_watershed(np_argmax, hv_map, ksize, object_size)
    return pred_inst, reference_instances(pred_inst, pred_type)


# ---------------------------------------------------------------------------
# mmpathseg's path and the comparison
# ---------------------------------------------------------------------------


def mmpathseg_table(np_map: np.ndarray,
                    hv_map: np.ndarray,
                    nc_map: np.ndarray,
                    ksize: int = 21,
                    object_size: int = 10) -> dict:
    """mmpathseg's path as plain functions, returning the exact (float64)
    instance table for the comparison."""
    fg = foreground_mask(np_map, mode='argmax')
    inst = hover_watershed(fg, hv_map, sobel_ksize=ksize,
                           min_marker_size=object_size)
    return instance_table(inst, np.argmax(nc_map, axis=0))


def compare_with_reference(table: dict, ref_inst: np.ndarray,
                           ref_info: Dict[int, dict]) -> List[str]:
    """Differences between an ``instance_table`` and the reference, as
    readable strings (empty when identical)."""
    problems = []
    expected_map = ref_inst.astype(np.int32).copy()
    kept = np.zeros(int(expected_map.max(initial=0)) + 1, dtype=bool)
    kept[list(ref_info)] = True
    kept[0] = True
    expected_map[~kept[expected_map]] = 0
    if not np.array_equal(table['inst_map'], expected_map):
        problems.append('instance maps differ in '
                        f'{int((table["inst_map"] != expected_map).sum())} px')
    ids = [int(i) for i in table['ids']]
    if ids != sorted(ref_info):
        problems.append(f'ids differ: {len(ids)} vs {len(ref_info)}')
        return problems
    for k, inst_id in enumerate(ids):
        ref = ref_info[inst_id]
        (rmin, cmin), (rmax, cmax) = ref['bbox']
        checks = dict(
            bbox=np.array_equal(table['bboxes'][k], [cmin, rmin, cmax, rmax]),
            centroid=np.array_equal(table['centroids'][k], ref['centroid']),
            contour=np.array_equal(table['contours'][k], ref['contour']),
            type=int(table['labels'][k]) == ref['type'],
            type_prob=float(table['scores'][k]) == ref['type_prob'])
        for name, ok in checks.items():
            if not ok:
                problems.append(f'instance {inst_id}: {name} differs')
    return problems


# ---------------------------------------------------------------------------
# Metric (PQ) timing
# ---------------------------------------------------------------------------


def reference_pq(true: np.ndarray, pred: np.ndarray,
                 match_iou: float = 0.5) -> Tuple[float, float, float]:
    """HoVer-Net ``get_fast_pq`` written per instance (one full-image mask
    per id), for timing: returns (DQ, SQ, PQ)."""
    true_ids = [i for i in np.unique(true) if i != 0]
    pred_ids = [i for i in np.unique(pred) if i != 0]
    pred_masks = {i: pred == i for i in pred_ids}
    pairs = []
    for t in true_ids:
        t_mask = true == t
        for p in np.unique(pred[t_mask]):
            if p == 0:
                continue
            inter = np.logical_and(t_mask, pred_masks[p]).sum()
            union = np.logical_or(t_mask, pred_masks[p]).sum()
            iou = inter / union
            if iou > match_iou:
                pairs.append(iou)
    tp = len(pairs)
    fp, fn = len(pred_ids) - tp, len(true_ids) - tp
    dq = tp / (tp + 0.5 * fp + 0.5 * fn + 1e-6)
    sq = sum(pairs) / (tp + 1e-6)
    return dq, sq, dq * sq


def project_pq(true: np.ndarray,
               pred: np.ndarray,
               backend: str = 'auto') -> Tuple[float, ...]:
    """(DQ, SQ, PQ) with the pairing functions of mmpathseg's metric
    (``instance_overlaps`` + ``match_instances``, which
    ``nuclei_image_stats`` uses for PQ), with the same formula as
    :func:`reference_pq`."""
    from mmpathseg.evaluation.metrics.instance_matching import (
        instance_overlaps, match_instances)
    overlaps = instance_overlaps(true, pred, backend=backend)
    matched = match_instances(overlaps, 0.5)
    tp = float(matched.size)
    fp, fn = overlaps.pred.num - tp, overlaps.gt.num - tp
    dq = tp / (tp + 0.5 * fp + 0.5 * fn + 1e-6)
    sq = float(overlaps.iou[matched].sum()) / (tp + 1e-6)
    return dq, sq, dq * sq


# ``--pq-fn module:function``: a PQ taking (true_inst, pred_inst) and
# returning (DQ, SQ, PQ) or a dict with 'dq', 'sq', 'pq'.
DEFAULT_PQ_FN = __name__ + ':project_pq'


def _load_fn(spec: Optional[str]) -> Optional[Callable]:
    if not spec or spec.lower() == 'none':
        return None
    module, _, name = spec.partition(':')
    if module == '__main__':
        return globals()[name]
    return getattr(importlib.import_module(module), name)


# ---------------------------------------------------------------------------
# Timing harness
# ---------------------------------------------------------------------------


def time_pair(fn_a: Callable, fn_b: Callable, repeat: int,
              min_block: float = 0.05) -> Tuple[float, float]:
    """Median CPU seconds per call of two functions.

    Each round times a block of back-to-back calls of ``fn_a`` then of
    ``fn_b`` (at least ``min_block`` seconds per block, as ``timeit`` does),
    so both run in steady state and, rounds alternating, under the same load
    of a shared machine. CPU time (``time.process_time``) is used: OpenCV is
    set to one thread, so other processes' load does not count.
    """
    gc.disable()  # as timeit does
    try:
        calls = []
        for fn in (fn_a, fn_b):
            start = time.process_time()
            fn()
            once = max(time.process_time() - start, 1e-6)
            calls.append(max(1, int(min_block / once)))
        times_a, times_b = [], []
        for _ in range(repeat):
            for fn, times, num in ((fn_a, times_a, calls[0]),
                                   (fn_b, times_b, calls[1])):
                start = time.process_time()
                for _ in range(num):
                    fn()
                times.append((time.process_time() - start) / num)
    finally:
        gc.enable()
    return float(np.median(times_a)), float(np.median(times_b))


def peak_bytes(fn: Callable) -> int:
    """Peak bytes allocated by ``fn`` as seen by ``tracemalloc``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_case(size: int, nuclei: int, repeat: int, seed: int,
             pq_fn: Optional[Callable],
             backend: str = 'auto') -> List[tuple]:
    gt_inst, gt_type = synthetic_instances(size, nuclei, seed=seed)
    np_map, hv_map, nc_map = synthetic_outputs(gt_inst, gt_type, seed=seed)
    fg = foreground_mask(np_map, mode='argmax')
    np_argmax = np.argmax(np_map, axis=0).astype(np.float32)
    types = np.argmax(nc_map, axis=0)

    ref_inst, ref_info = reference_postprocess(np_map, hv_map, nc_map)
    table = mmpathseg_table(np_map, hv_map, nc_map)
    processor = HoVerNetPostProcessor(magnification=40, backend=backend)
    if not np.array_equal(processor(np_map, hv_map, nc_map)['inst_map'],
                          table['inst_map']):
        raise AssertionError('HoVerNetPostProcessor disagrees with the '
                             'functions it is made of.')
    problems = compare_with_reference(table, ref_inst, ref_info)
    identical = 'yes' if not problems else f'NO ({problems[0]})'
    inst = hover_watershed(fg, hv_map)
    tag = f'{size}px/{len(ref_info)} nuclei'

    rows = []
    parts = [
        ('per-instance extraction',
         lambda: reference_instances(ref_inst, types.astype(np.int32)),
         lambda: instance_table(inst, types, backend=backend)),
        ('watershed (NP+HV -> map)',
         lambda: reference_watershed(np_argmax, hv_map),
         lambda: hover_watershed(fg, hv_map)),
        ('end to end (NP/HV/NC -> instances)',
         lambda: reference_postprocess(np_map, hv_map, nc_map),
         lambda: processor(np_map, hv_map, nc_map)),
    ]
    for name, ref_fn, our_fn in parts:
        t_ref, t_our = time_pair(ref_fn, our_fn, repeat)
        rows.append((tag, name, t_ref, t_our, peak_bytes(ref_fn),
                     peak_bytes(our_fn), identical))
    pq_ref = lambda: reference_pq(gt_inst, table['inst_map'])  # noqa: E731
    if pq_fn is None:
        t_ref = time_pair(pq_ref, pq_ref, repeat)[0]
        rows.append((tag, 'PQ (reference only)', t_ref, float('nan'),
                     peak_bytes(pq_ref), 0, 'n/a'))
    else:
        pq_our = lambda: pq_fn(gt_inst, table['inst_map'])  # noqa: E731
        t_ref, t_our = time_pair(pq_ref, pq_our, repeat)
        rows.append((tag, 'PQ', t_ref, t_our, peak_bytes(pq_ref),
                     peak_bytes(pq_our), _same_pq(pq_ref(), pq_our())))
    return rows


def _same_pq(ref, ours) -> str:
    if isinstance(ours, dict):
        ours = [ours.get(k) for k in ('dq', 'sq', 'pq')]
    ours = list(np.ravel(ours))[:3]
    try:
        return 'yes' if np.allclose(ref, ours, atol=1e-6) else \
            f'NO ({ours} vs {ref})'
    except (TypeError, ValueError):
        return f'unchecked ({ours!r})'


def print_table(rows: List[tuple]) -> None:
    header = ('tile', 'part', 'reference ms', 'mmpathseg ms', 'speed-up',
              'ref peak MiB', 'ours peak MiB', 'identical')
    lines = [header]
    for tag, name, t_ref, t_our, m_ref, m_our, same in rows:
        ratio = t_ref / t_our if t_our == t_our and t_our > 0 else float('nan')
        lines.append((tag, name, f'{t_ref * 1e3:.2f}', f'{t_our * 1e3:.2f}',
                      f'{ratio:.1f}x', f'{m_ref / 2**20:.2f}',
                      f'{m_our / 2**20:.2f}', same))
    widths = [max(len(str(line[i])) for line in lines) for i in range(8)]
    for k, line in enumerate(lines):
        print(' | '.join(str(v).ljust(w) for v, w in zip(line, widths)))
        if k == 0:
            print('-+-'.join('-' * w for w in widths))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--case',
        action='append',
        help='SIZE:NUCLEI, repeatable (default 256:100 and 1024:1600)')
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--pq-fn',
        default=DEFAULT_PQ_FN,
        help='module:function of a PQ to time against the per-instance '
        'reference, called as fn(true_inst, pred_inst); default: '
        "the PQ of mmpathseg's metric; 'none' to time the reference only")
    parser.add_argument(
        '--backend',
        default='auto',
        choices=['auto', 'compiled', 'numpy'],
        help="mmpathseg's per-instance step and PQ: the compiled kernels "
        "(mmpathseg/ops, 'auto' when built) or the numpy implementation")
    return parser.parse_args()


def main():
    args = parse_args()
    cases = args.case or ['256:100', '1024:1600']
    pq_fn = _load_fn(args.pq_fn)
    if pq_fn is project_pq:
        pq_fn = functools.partial(project_pq, backend=args.backend)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    rows = []
    try:
        for case in cases:
            size, nuclei = (int(v) for v in case.split(':'))
            rows += run_case(size, nuclei, args.repeat, args.seed, pq_fn,
                             args.backend)
    finally:
        cv2.setNumThreads(threads)
    used = 'compiled' if use_compiled(args.backend) else 'numpy'
    print(f'mmpathseg backend: {used}')
    print_table(rows)
    if pq_fn is None:
        print('\n--pq-fn none: the PQ row times the per-instance reference '
              'only.')


if __name__ == '__main__':
    main()
