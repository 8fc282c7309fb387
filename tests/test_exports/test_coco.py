# Copyright (c) mmpathseg contributors. All rights reserved.
"""COCO export: window RLE equals pycocotools' full-mask encoding and the
files load back with pycocotools."""
import numpy as np
from pycocotools import mask as mask_api
from pycocotools.coco import COCO

from mmpathseg.exports import (coco_dataset, instance_rle, instances_to_coco,
                               write_coco)


def _inst_map():
    inst = np.zeros((40, 50), np.int32)
    inst[0:5, 0:7] = 1  # corner
    inst[10:20, 45:50] = 2  # right border
    inst[30:40, 10:12] = 3  # bottom border
    inst[12:14, 20:30] = 4
    inst[16:18, 20:30] = 4  # two parts
    inst[39, 49] = 5  # last pixel
    return inst


def test_window_rle_equals_full_mask_rle():
    inst = _inst_map()
    boxes = {1: (0, 0, 7, 5), 2: (45, 10, 50, 20), 3: (10, 30, 12, 40),
             4: (20, 12, 30, 18), 5: (49, 39, 50, 40)}
    for inst_id, box in boxes.items():
        rle = instance_rle(inst, inst_id, box)
        full = mask_api.encode(np.asfortranarray((inst == inst_id).astype(
            np.uint8)))
        assert rle['counts'] == full['counts'].decode('ascii'), inst_id
        assert rle['size'] == [40, 50]
    assert instance_rle(inst, 9, (0, 0, 10, 10)) is None


def test_coco_files_load_back(tmp_path):
    inst = _inst_map()
    ids = [1, 2, 3, 4, 5]
    labels = [1, 2, 1, 3, 2]
    boxes = [(0, 0, 7, 5), (45, 10, 50, 20), (10, 30, 12, 40),
             (20, 12, 30, 18), (49, 39, 50, 40)]
    results = instances_to_coco(
        inst, ids, labels, boxes, scores=[.9, .8, .7, .6, .5], image_id=7)
    assert [r['bbox'] for r in results][0] == [0.0, 0.0, 7.0, 5.0]
    assert [r['area'] for r in results] == [35., 50., 20., 40., 1.]
    names = ['background', 'a', 'b', 'c']
    path = write_coco(
        coco_dataset([dict(id=7, file_name='x.png', height=40, width=50)],
                     results, names), tmp_path / 'gt.json')
    coco = COCO(path)
    assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == names[1:]
    for ann in coco.loadAnns(coco.getAnnIds(imgIds=[7])):
        np.testing.assert_array_equal(
            coco.annToMask(ann), (inst == ann['instance_id']).astype(
                np.uint8))
    # The result list is what loadRes reads (e.g. for COCOeval).
    dets = coco.loadRes(results)
    assert len(dets.getAnnIds()) == 5
    from pycocotools.cocoeval import COCOeval
    evaluator = COCOeval(coco, dets, 'segm')
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[0] == 1.0  # results against themselves
