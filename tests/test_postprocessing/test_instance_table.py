# Copyright (c) mmpathseg contributors. All rights reserved.
"""Per-instance values (type vote, type probability, centroid, bbox,
contour) on hand-built maps, and identity with the per-instance reference."""
import cv2
import numpy as np
import pytest

from mmpathseg.postprocessing import (group_instances, hover_watershed,
                                      instance_table, trace_contours,
                                      vote_types)
from tools.analysis_tools.benchmark_postprocessing import (
    compare_with_reference, reference_instances, reference_postprocess,
    synthetic_instances, synthetic_outputs)


@pytest.fixture(params=['numpy', 'compiled'])
def backend(request):
    """Both implementations of ``instance_table`` must give these values."""
    return request.param


def crop_contour(inst_map, inst_id):
    """What the reference does for one instance."""
    ys, xs = np.nonzero(inst_map == inst_id)
    y0, x0 = ys.min(), xs.min()
    crop = (inst_map[y0:ys.max() + 1, x0:xs.max() + 1] == inst_id)
    found = cv2.findContours(
        crop.astype(np.uint8), cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0]
    return found[0].reshape(-1, 2) + [x0, y0]


def test_square_values_worked_by_hand(backend):
    inst = np.zeros((20, 30), np.int32)
    inst[10:14, 20:24] = 7  # 4x4 square, rows 10..13, cols 20..23
    table = instance_table(inst, backend=backend)
    assert table['ids'].tolist() == [7]
    assert table['areas'].tolist() == [16]
    assert table['bboxes'].tolist() == [[20, 10, 24, 14]]  # exclusive max
    assert table['centroids'].tolist() == [[21.5, 11.5]]  # (x, y)
    # OpenCV starts at the top-left corner and runs down the left side.
    assert table['contours'][0].tolist() == [[20, 10], [20, 13], [23, 13],
                                             [23, 10]]
    assert table['contours'][0].dtype == np.int32
    # Without a type map every nucleus is type 1 with score 1.
    assert table['labels'].tolist() == [1]
    assert table['scores'].tolist() == [1.0]


def test_rectangle_centroid_is_pixel_mean(backend):
    inst = np.zeros((10, 10), np.int32)
    inst[1:4, 2:8] = 1  # rows 1..3, cols 2..7
    inst[5, 0:3] = 2  # 1x3 line: contour of 2 points
    table = instance_table(inst, drop_degenerate=False, backend=backend)
    assert table['centroids'][0].tolist() == [4.5, 2.0]
    assert table['contours'][1].tolist() == [[0, 5], [2, 5]]
    # By default the degenerate line is dropped from table and map.
    table = instance_table(inst, backend=backend)
    assert table['ids'].tolist() == [1]
    assert not (table['inst_map'] == 2).any()
    assert (table['inst_map'] == 1).sum() == 18


def test_type_vote_rule():
    # Per row: type pixel counts of one instance, types 0..3.
    counts = np.array([
        [6, 3, 3, 0],  # background wins -> most frequent nucleus type,
                       # tie 1 vs 2 -> smaller id
        [0, 5, 7, 0],  # plain majority
        [0, 4, 4, 0],  # tie -> smaller id
        [5, 0, 0, 5],  # background ties a type -> the type
        [9, 0, 0, 0],  # only background -> 0
    ])
    assert vote_types(counts).tolist() == [1, 2, 1, 3, 0]


def test_type_vote_and_probability_on_a_map(backend):
    inst = np.zeros((4, 12), np.int32)
    types = np.zeros((4, 12), np.int64)
    inst[:, 0:3] = 1  # 12 px: 6 background, 3 of type 1, 3 of type 2
    types[0:2, 0:3] = 0
    types[2, 0:3] = 1
    types[3, 0:3] = 2
    inst[:, 4:7] = 2  # 12 px, all background type -> type 0
    inst[:, 8:11] = 3  # 12 px: 5 of type 3, 7 of type 2
    types[:, 8:11] = 2
    types[0, 8:11] = 3
    types[1, 8:10] = 3
    table = instance_table(inst, types, backend=backend)
    assert table['labels'].tolist() == [1, 0, 2]
    assert table['scores'].tolist() == [
        3 / (12 + 1e-6), 12 / (12 + 1e-6), 7 / (12 + 1e-6)
    ]
    ref = reference_instances(inst, types.astype(np.int32))
    assert [ref[i]['type'] for i in (1, 2, 3)] == [1, 0, 2]
    assert [ref[i]['type_prob'] for i in (1, 2, 3)] == \
        table['scores'].tolist()


def test_mean_prob_score(backend):
    inst = np.zeros((2, 4), np.int32)
    inst[:, :2] = 5
    probs = np.zeros((3, 2, 4), np.float32)
    probs[0] = 0.2
    probs[1] = 0.1
    probs[2] = 0.7
    probs[:, 0, 0] = [0.1, 0.8, 0.1]  # one pixel votes type 1
    table = instance_table(
        inst, type_probs=probs, score_mode='mean_prob', backend=backend)
    assert table['labels'].tolist() == [2]
    assert table['scores'][0] == pytest.approx((0.1 + 0.7 * 3) / 4)
    with pytest.raises(ValueError, match='type_probs'):
        instance_table(inst, score_mode='mean_prob', backend=backend)


def test_empty_and_sparse_ids(backend):
    table = instance_table(np.zeros((5, 5), np.int32), backend=backend)
    assert table['ids'].shape == (0, ) and table['contours'] == []
    assert table['centroids'].shape == (0, 2)
    assert table['bboxes'].shape == (0, 4)
    inst = np.zeros((6, 6), np.int64)
    inst[0:3, 0:3] = 10**9
    inst[3:6, 3:6] = 4
    table = instance_table(inst, backend=backend)
    assert table['ids'].tolist() == [4, 10**9]
    assert table['bboxes'].tolist() == [[3, 3, 6, 6], [0, 0, 3, 3]]
    assert table['inst_map'][0, 0] == 10**9
    with pytest.raises(TypeError, match='integer'):
        instance_table(np.zeros((4, 4), np.float32), backend=backend)


def test_contours_of_awkward_shapes_match_per_crop_opencv(backend):
    inst = np.zeros((40, 60), np.int32)
    inst[1:11, 1:11] = 1  # ring with an island in its hole
    inst[3:9, 3:9] = 0
    inst[5:7, 5:7] = 1
    inst[0:3, 20:23] = 2  # three components of one id
    inst[6:9, 14:16] = 2
    inst[6:8, 26:29] = 2
    inst[12:20, 30:40] = 3  # touches instance 4
    inst[12:20, 40:50] = 4
    inst[30:40, 50:60] = 5  # touches the image corner
    inst[25, 5] = 6  # single pixel
    inst[20:30, 0] = 7  # vertical line on the border
    inst[15:18, 2:4] = 8  # diagonal neighbours: one 8-connected component
    inst[18:21, 4:6] = 8
    table = instance_table(inst, drop_degenerate=False, backend=backend)
    for k, inst_id in enumerate(table['ids']):
        assert np.array_equal(table['contours'][k],
                              crop_contour(inst, inst_id)), inst_id


def test_trace_contours_random_labels_match_per_crop_opencv():
    rng = np.random.default_rng(7)
    for _ in range(5):
        shape = tuple(rng.integers(20, 90, 2))
        # Random blobby labels with disconnected pieces and holes.
        noise = cv2.GaussianBlur(
            rng.random(shape).astype(np.float32), (0, 0), 1.5)
        inst = (noise * 23).astype(np.int32) % 7
        inst[noise < np.quantile(noise, 0.3)] = 0
        groups = group_instances(inst)
        contours = trace_contours(groups.pixels, groups.areas, shape[1],
                                  groups.boxes)
        for inst_id, contour in zip(groups.ids, contours):
            assert np.array_equal(contour, crop_contour(inst, inst_id))


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_identical_to_reference_on_synthetic_tiles(seed, backend):
    gt_inst, gt_type = synthetic_instances(256, 100, seed=seed)
    np_map, hv_map, nc_map = synthetic_outputs(gt_inst, gt_type, seed=seed)
    ref_inst, ref_info = reference_postprocess(np_map, hv_map, nc_map)
    inst = hover_watershed(np_map[1] > np_map[0], hv_map)
    table = instance_table(
        inst, np.argmax(nc_map, axis=0), backend=backend)
    assert compare_with_reference(table, ref_inst, ref_info) == []
    assert len(ref_info) > 80
    # The ground truth itself (contiguous ids, several types).
    types = gt_type.astype(np.int32)
    table = instance_table(gt_inst, types, backend=backend)
    assert compare_with_reference(
        table, gt_inst, reference_instances(gt_inst, types)) == []


def test_more_instances_than_uint16_keys(backend):
    # 2x2 squares on a 3 px grid: 266 x 266 = 70756 instances (> 65535).
    size = 798
    inst = np.zeros((size, size), np.int32)
    grid = np.arange(266)
    ids = (grid[:, None] * 266 + grid[None, :] + 1).astype(np.int32)
    for dy in (0, 1):
        for dx in (0, 1):
            inst[dy::3, dx::3] = ids
    table = instance_table(inst, backend=backend)
    assert table['ids'].size == 266 * 266
    assert (table['areas'] == 4).all()
    last = table['ids'].size - 1
    assert table['bboxes'][last].tolist() == [795, 795, 797, 797]
    assert table['centroids'][last].tolist() == [795.5, 795.5]
    assert table['contours'][last].tolist() == [[795, 795], [795, 796],
                                                [796, 796], [796, 795]]
