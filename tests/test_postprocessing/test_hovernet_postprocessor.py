# Copyright (c) mmpathseg contributors. All rights reserved.
"""The registered ``HoVerNetPostProcessor``: presets, inputs, outputs."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import mmpathseg.postprocessing  # noqa: F401  (registers the class)
from mmpathseg.postprocessing import HoVerNetPostProcessor
from mmpathseg.registry import TASK_UTILS
from tools.analysis_tools.benchmark_postprocessing import (
    hv_targets, reference_postprocess, synthetic_instances, synthetic_outputs)


def one_hot(type_map, num_classes):
    return np.eye(num_classes + 1, dtype=np.float32)[type_map].transpose(
        2, 0, 1)


def test_built_from_config_with_presets():
    init_default_scope('mmpathseg')
    p40 = TASK_UTILS.build(dict(type='HoVerNetPostProcessor'))
    p20 = TASK_UTILS.build(
        dict(type='HoVerNetPostProcessor', magnification=20))
    assert isinstance(p40, HoVerNetPostProcessor)
    assert p40.watershed_cfg == dict(
        sobel_ksize=21, min_marker_size=10, min_blob_size=10,
        marker_thresh=0.4, marker_open_ksize=5, dist_blur_ksize=3)
    assert p20.watershed_cfg['sobel_ksize'] == 11
    assert p20.watershed_cfg['min_marker_size'] == 3
    assert p20.watershed_cfg['min_blob_size'] == 10  # hard-coded upstream
    custom = TASK_UTILS.build(
        dict(type='HoVerNetPostProcessor', magnification=20, sobel_ksize=13,
             min_marker_size=5, np_mode='prob'))
    assert custom.watershed_cfg['sobel_ksize'] == 13
    assert custom.np_mode == 'prob'
    assert 'sobel_ksize=13' in repr(custom)


@pytest.mark.parametrize('kwargs,match', [
    (dict(magnification=10), 'magnification'),
    (dict(np_mode='sigmoid'), 'np_mode'),
    (dict(score_mode='max'), 'score_mode'),
    (dict(sobel_ksize=20), 'sobel_ksize'),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HoVerNetPostProcessor(**kwargs)


def test_outputs_on_a_known_tile():
    gt = np.zeros((64, 64), np.int32)
    gt[8:20, 8:20] = 1
    gt[30:44, 30:46] = 2
    types = np.where(gt == 1, 3, np.where(gt == 2, 1, 0))
    fg = (gt > 0).astype(np.float32)
    result = HoVerNetPostProcessor()(
        torch.from_numpy(np.stack([1 - fg, fg])),
        torch.from_numpy(hv_targets(gt)), torch.from_numpy(one_hot(types, 3)))
    inst = result['instances']
    assert len(inst) == 2
    assert inst.labels.tolist() == [3, 1]
    assert inst.scores.tolist() == pytest.approx([1.0, 1.0])
    assert inst.areas.tolist() == [144, 224]
    assert inst.bboxes.tolist() == [[8, 8, 20, 20], [30, 30, 46, 44]]
    assert inst.centroids.tolist() == [[13.5, 13.5], [37.5, 36.5]]
    assert inst.bboxes.dtype == torch.float32
    assert inst.labels.dtype == torch.int64
    assert [c.shape[1] for c in inst.contours] == [2, 2]
    # Maps: ids as in the instance map, types painted per instance.
    inst_map, type_map = result['inst_map'], result['type_map']
    assert inst_map.dtype == np.int32 and type_map.dtype == np.int64
    for k, inst_id in enumerate(inst.ids.tolist()):
        assert np.array_equal(inst_map == inst_id, gt == k + 1)
    assert np.array_equal(type_map, types)


def test_type_map_input_and_no_types():
    gt = np.zeros((40, 40), np.int32)
    gt[5:20, 5:20] = 1
    fg = gt > 0
    hv = hv_targets(gt)
    p = HoVerNetPostProcessor()
    result = p(fg.astype(np.float32), hv, np.where(fg, 2, 0))
    assert result['instances'].labels.tolist() == [2]
    result = p(fg.astype(np.float32), hv)
    assert result['instances'].labels.tolist() == [1]
    assert result['instances'].scores.tolist() == [1.0]
    with pytest.raises(ValueError, match='nc_map'):
        p(fg.astype(np.float32), hv, np.zeros((3, 30, 30)))
    with pytest.raises(ValueError, match='mean_prob'):
        HoVerNetPostProcessor(score_mode='mean_prob')(
            fg.astype(np.float32), hv)


def test_empty_prediction():
    result = HoVerNetPostProcessor()(
        np.zeros((2, 32, 32), np.float32), np.zeros((2, 32, 32), np.float32),
        np.zeros((4, 32, 32), np.float32))
    inst = result['instances']
    assert len(inst) == 0
    assert inst.bboxes.shape == (0, 4) and inst.centroids.shape == (0, 2)
    assert inst.contours == []
    assert not result['inst_map'].any() and not result['type_map'].any()


def test_matches_reference_and_relabel():
    gt_inst, gt_type = synthetic_instances(192, 60, seed=4)
    np_map, hv_map, nc_map = synthetic_outputs(gt_inst, gt_type, seed=4)
    ref_inst, ref_info = reference_postprocess(np_map, hv_map, nc_map)
    result = HoVerNetPostProcessor()(np_map, hv_map, nc_map)
    inst = result['instances']
    assert inst.ids.tolist() == sorted(ref_info)
    assert inst.labels.tolist() == [ref_info[i]['type'] for i in ref_info]
    assert inst.scores.numpy() == pytest.approx(
        [ref_info[i]['type_prob'] for i in ref_info], rel=1e-6)
    relabelled = HoVerNetPostProcessor(relabel=True)(np_map, hv_map, nc_map)
    ids = relabelled['instances'].ids.tolist()
    assert ids == list(range(1, len(ref_info) + 1))
    # Same partition, ids renumbered in ascending order of the old ids.
    lut = dict(zip(inst.ids.tolist(), ids))
    remapped = np.vectorize(lambda v: lut.get(v, 0))(result['inst_map'])
    assert np.array_equal(remapped, relabelled['inst_map'])
    assert np.array_equal(result['type_map'], relabelled['type_map'])
