# Copyright (c) mmpathseg contributors. All rights reserved.
"""Real NuCLS ground truth -> exact NP/HV/NC targets -> post-processing
gives the ground truth back (PQ close to 1, types right).

Uses ``../shared/fixtures/nucls`` (10 tiles, 458 nuclei); skipped when the
folder is absent.
"""
import numpy as np
import pytest

from mmpathseg.postprocessing import HoVerNetPostProcessor

try:  # the project's HV target transform
    from mmpathseg.datasets.transforms.nuclei_targets import instance_hv_map
except ImportError:  # not in this checkout: the benchmark's minimal version
    from tools.analysis_tools.benchmark_postprocessing import \
        hv_targets as instance_hv_map


def simple_pq(gt, pred, match_iou=0.5):
    """Binary PQ (HoVer-Net definition, pairs with IoU > 0.5) and the
    matched (gt id, pred id) pairs."""
    gt_ids, gt_areas = np.unique(gt[gt > 0], return_counts=True)
    pred_ids, pred_areas = np.unique(pred[pred > 0], return_counts=True)
    both = (gt > 0) & (pred > 0)
    pairs, inter = np.unique(
        np.stack([gt[both], pred[both]]), axis=1, return_counts=True)
    area_gt = dict(zip(gt_ids.tolist(), gt_areas.tolist()))
    area_pred = dict(zip(pred_ids.tolist(), pred_areas.tolist()))
    matched, iou_sum = [], 0.0
    for (g, p), i in zip(pairs.T.tolist(), inter.tolist()):
        iou = i / (area_gt[g] + area_pred[p] - i)
        if iou > match_iou:
            matched.append((g, p))
            iou_sum += iou
    tp = len(matched)
    fp, fn = len(pred_ids) - tp, len(gt_ids) - tp
    dq = tp / (tp + 0.5 * fp + 0.5 * fn)
    return dq * iou_sum / max(tp, 1), tp, fp, fn, matched


def load_nucls(root):
    files = sorted((root / 'nucls' / 'labels').glob('*.npz'))
    if not files:
        pytest.skip(f'no NuCLS labels under {root / "nucls" / "labels"}')
    for path in files:
        with np.load(path, allow_pickle=False) as z:
            yield path.stem, z['inst_map'], z['type_map']


def test_ground_truth_round_trip(shared_fixtures):
    processor = HoVerNetPostProcessor(magnification=40)
    pqs, totals = [], np.zeros(3, int)
    for name, inst, types in load_nucls(shared_fixtures):
        fg = (inst > 0).astype(np.float32)
        np_map = np.stack([1 - fg, fg])  # exact NP softmax
        nc_map = np.eye(3, dtype=np.float32)[types].transpose(2, 0, 1)
        result = processor(np_map, instance_hv_map(inst), nc_map)
        pq, tp, fp, fn, matched = simple_pq(inst, result['inst_map'])
        pqs.append(pq)
        totals += (tp, fp, fn)
        assert pq > 0.9, name
        # Every matched nucleus gets its GT class with probability 1.
        got = dict(zip(result['instances'].ids.tolist(),
                       result['instances'].labels.tolist()))
        for g, p in matched:
            assert got[p] == types[inst == g][0], (name, g)
        # pred_sem_seg: the type of the predicted instances per pixel.
        assert np.array_equal(result['type_map'] > 0, result['inst_map'] > 0)
    # Measured: mean PQ 0.982, 448 of 458 nuclei found, no false positive.
    # The 10 misses are thin (5-7 px wide) or cut by the tile border, where
    # the 5x5 marker opening or the weak HV gradient leaves them no marker
    # (8), or merged into a neighbour (2): limits of the algorithm itself.
    assert np.mean(pqs) > 0.97
    assert totals[1] == 0
    assert totals[0] >= 0.97 * (totals[0] + totals[2])
