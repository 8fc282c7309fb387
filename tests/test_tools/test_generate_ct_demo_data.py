# Copyright (c) mmpathseg contributors. All rights reserved.
"""The CT-like demo generator writes a deterministic SA-Med2D layout that
SAMed2DDataset reads."""
import hashlib
import json

import numpy as np
from mmengine.registry import init_default_scope

from mmpathseg.datasets import SAMed2DDataset
from tools.misc.generate_ct_demo_data import main

init_default_scope('mmpathseg')


def _digest(root):
    h = hashlib.sha256()
    for path in sorted(root.rglob('*')):
        if path.is_file() and path.name != 'demo_info.json':
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def test_layout_and_determinism(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    info = main(['--out', str(a), '--num-train', '3', '--num-test', '2'])
    main(['--out', str(b), '--num-train', '3', '--num-test', '2'])
    assert _digest(a) == _digest(b)
    assert info['counts']['train']['images'] == 3
    train = json.loads((a / 'image2label_train.json').read_text())
    assert all(4 <= len(m) <= 6 for m in train.values())
    ds = SAMed2DDataset(
        ann_file='label2image_test.json', data_root=str(a), test_mode=True,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadPromptMasks')])
    assert len(ds) == 2
    sample = ds[0]
    masks = sample['gt_masks']
    assert masks.shape[1:] == sample['img'].shape[:2]
    assert masks.sum(0).max() == 1  # objects never overlap
    assert (masks.reshape(len(masks), -1).sum(1) >= 12).all()
    img = sample['img']
    assert (img[..., 0] == img[..., 2]).all()  # grey stored as RGB
    # Organs are brighter than the soft tissue around them on average.
    names = ds.get_data_info(0)['mask_names']
    if any('vertebra' in n for n in names):
        k = [i for i, n in enumerate(names) if 'vertebra' in n][0]
        assert img[masks[k] > 0, 0].mean() > np.median(img[..., 0])
