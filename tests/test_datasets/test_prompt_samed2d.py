# Copyright (c) mmpathseg contributors. All rights reserved.
"""SA-Med2D layout on SAM-Med2D's real `data_demo` (shared fixture) and on
broken copies of it."""
import json
import shutil

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmpathseg.datasets import PromptDatasetError, SAMed2DDataset

init_default_scope('mmpathseg')


def _train_pipeline(size=256, seed=None):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='SampleMasks', num_masks=5),
        dict(type='LoadPromptMasks'),
        dict(type='GenerateBoxPrompt', jitter='translate', max_shift=5),
        dict(type='GeneratePointPrompt', seed=seed),
        dict(type='PromptResize', size=size),
        dict(type='PackPromptInputs'),
    ]


def _test_pipeline(size=256):
    return [
        dict(type='LoadImageFromFile'),
        dict(type='LoadPromptMasks', keep_ori=True),
        dict(type='GenerateBoxPrompt'),
        dict(type='GeneratePointPrompt', seed=0),
        dict(type='PromptResize', size=size),
        dict(type='PackPromptInputs'),
    ]


@pytest.fixture
def demo(shared_fixtures):
    root = shared_fixtures / 'samed2d_demo'
    if not root.is_dir():
        pytest.skip(f'{root} is absent')
    return root


def test_train_index(demo):
    ds = SAMed2DDataset(
        ann_file='image2label_train.json',
        data_root=str(demo),
        pipeline=_train_pipeline())
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['img_path'].endswith('images/amos_0006_90.png')
    assert len(info['mask_paths']) == 4
    np.random.seed(0)
    out = ds[1]  # s0114_111: 258 x 181 (W x H)
    sample = out['data_samples']
    assert tuple(out['inputs'].shape) == (3, 180, 256)  # 181*256/258 -> 180
    assert tuple(sample.gt_masks.shape) == (5, 180, 256)
    assert sample.ori_shape == (181, 258)
    assert sample.valid_region == (0, 0, 256, 180)
    # Every point lies on its (resized) mask; every box is near its mask.
    for k in range(5):
        x, y = sample.gt_points[k, 0].round().long().tolist()
        assert sample.gt_masks[k, min(y, 179), min(x, 255)] or \
            sample.gt_masks[k, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].any()
        ys, xs = np.nonzero(sample.gt_masks[k].numpy())
        x0, y0, x1, y1 = sample.gt_boxes[k].tolist()
        # translation of at most 5 original px = 5 * 256 / 258 resized px
        assert abs(x0 - xs.min()) <= 6 + 1 and abs(y0 - ys.min()) <= 6 + 1


def test_test_index_groups_masks_by_image(demo):
    ds = SAMed2DDataset(
        ann_file='label2image_test.json',
        data_root=str(demo),
        pipeline=_test_pipeline(),
        test_mode=True)
    assert len(ds) == 2
    assert [len(ds.get_data_info(i)['mask_paths']) for i in range(2)] == \
        [3, 8]
    sample = ds[1]['data_samples']  # s0619_32, 225 x 155
    assert tuple(sample.ori_gt_masks.shape) == (8, 155, 225)
    # Masks are 0/255 single objects; no two overlap (fixture README).
    assert sample.ori_gt_masks.sum(0).max() == 1
    # Test boxes are tight boxes of the largest component, scaled 256/225.
    ori = sample.ori_gt_masks[0].numpy()
    ys, xs = np.nonzero(ori)
    # SAM's apply_boxes: x by new_w / old_w, y by new_h / old_h
    # (155 * 256 / 225 = 176.4 -> 176 rows).
    sx, sy = 256 / 225, 176 / 155
    expected = [xs.min() * sx, ys.min() * sy, (xs.max() + 1) * sx,
                (ys.max() + 1) * sy]
    np.testing.assert_allclose(sample.gt_boxes[0].numpy(), expected,
                               rtol=1e-5)
    # Fixed test prompts: same points in a second dataset instance.
    again = SAMed2DDataset(
        ann_file='label2image_test.json',
        data_root=str(demo),
        pipeline=_test_pipeline(),
        test_mode=True)[1]['data_samples']
    assert (again.gt_points == sample.gt_points).all()


def test_missing_and_inconsistent_files(demo, tmp_path):
    root = tmp_path / 'data_demo'
    shutil.copytree(demo, root)
    (root / 'masks' / 'amos_0006_90_aorta_000.png').unlink()
    with pytest.raises(PromptDatasetError, match='amos_0006_90_aorta_000'):
        SAMed2DDataset(ann_file='image2label_train.json', data_root=str(root))
    # Without the up-front check, the loader names the file.
    ds = SAMed2DDataset(
        ann_file='image2label_train.json',
        data_root=str(root),
        check_files=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadPromptMasks')
        ])
    with pytest.raises(FileNotFoundError, match='aorta_000'):
        ds[0]
    # A mask of the wrong size names mask, sizes and image.
    bad = root / 'masks' / 'amos_0006_90_aorta_000.png'
    shutil.copy(root / 'masks' / 's0114_111_aorta_000.png', bad)
    with pytest.raises(ValueError, match='258x181 .* 512x512'):
        ds[0]
    # Broken index files.
    (root / 'bad.json').write_text(json.dumps({'images/a.png': []}))
    with pytest.raises(PromptDatasetError, match='has no mask list'):
        SAMed2DDataset(ann_file='bad.json', data_root=str(root))
    with pytest.raises(PromptDatasetError, match='does not exist'):
        SAMed2DDataset(ann_file='nope.json', data_root=str(root))
