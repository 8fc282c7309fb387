# Copyright (c) mmpathseg contributors. All rights reserved.
"""IMed-361M layout and the plain folder-of-masks layout, on tiny copies
made here."""
import json

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from scipy import sparse

from mmpathseg.datasets import (IMed361MDataset, MaskFolderDataset,
                                PromptDatasetError)
from mmpathseg.datasets.imed361m import label_shape

init_default_scope('mmpathseg')


def _make_imed(root, name='BTCV'):
    folder = root / name
    for sub in ('image', 'label'):
        (folder / sub).mkdir(parents=True)
    entries = []
    for i in range(2):
        img = np.full((12, 10, 3), 40 * i, np.uint8)
        cv2.imwrite(str(folder / 'image' / f'x_{i}.png'), img)
        label = np.zeros((3, 12, 10), np.uint8)
        label[0, 1:4, 1:4] = 1      # class row 0
        label[2, 6:10, 2:9] = 1     # class row 2; row 1 empty
        fname = f'x_{i}.(3, 12, 10, 1).npz'
        sparse.save_npz(str(folder / 'label' / fname),
                        sparse.csr_matrix(label.reshape(3, -1)))
        entries.append(dict(image=f'image/x_{i}.png',
                            label=f'label/{fname}',
                            imask=f'imask/x_{i}.npy'))
    meta = dict(name=name, modality='CT', labels={'0': 'a', '1': 'b',
                                                   '2': 'c'},
                training=entries[:1], test=entries[1:])
    (folder / 'dataset.json').write_text(json.dumps(meta))
    return folder


def test_imed_layout_reads_nonempty_rows(tmp_path):
    _make_imed(tmp_path)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadIMedLabels', keep_ori=True),
        dict(type='GenerateBoxPrompt'),
        dict(type='GeneratePointPrompt', seed=0),
        dict(type='PromptResize', size=24),
        dict(type='PackPromptInputs'),
    ]
    ds = IMed361MDataset(data_root=str(tmp_path), split='test',
                         pipeline=pipeline)
    assert len(ds) == 1
    assert ds.get_data_info(0)['dataset_name'] == 'BTCV'
    sample = ds[0]['data_samples']
    assert sample.mask_names == ['class0', 'class2']
    assert tuple(sample.ori_gt_masks.shape) == (2, 12, 10)
    assert sample.ori_gt_masks[1].sum() == 28
    # boxes at 2x: row 2 spans x 2..9, y 6..10
    assert sample.gt_boxes[1].tolist() == [4, 12, 18, 20]
    train = IMed361MDataset(
        data_root=str(tmp_path),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadIMedLabels'),
                  dict(type='SampleMasks', num_masks=5)])
    assert train[0]['gt_masks'].shape == (5, 12, 10)


def test_imed_errors(tmp_path):
    assert label_shape('a.(13, 512, 512, 1).npz') == (13, 512, 512, 1)
    with pytest.raises(PromptDatasetError, match='must end in its shape'):
        label_shape('a.npz')
    folder = _make_imed(tmp_path)
    (folder / 'image' / 'x_0.png').unlink()  # a training image
    with pytest.raises(PromptDatasetError, match='do not exist'):
        IMed361MDataset(data_root=str(tmp_path))
    with pytest.raises(PromptDatasetError, match='no <dataset>/dataset.json'):
        IMed361MDataset(data_root=str(tmp_path / 'BTCV' / 'label'))


def test_mask_folder_layout(tmp_path):
    (tmp_path / 'images').mkdir()
    for stem, objects in (('a', 2), ('b', 1), ('c', 0)):
        cv2.imwrite(str(tmp_path / 'images' / f'{stem}.png'),
                    np.zeros((8, 8, 3), np.uint8))
        (tmp_path / 'masks' / stem).mkdir(parents=True)
        for k in range(objects):
            mask = np.zeros((8, 8), np.uint8)
            mask[k:k + 3, 2:5] = 255
            cv2.imwrite(str(tmp_path / 'masks' / stem / f'obj{k}.png'), mask)
    with pytest.raises(PromptDatasetError, match='c.png has no masks'):
        MaskFolderDataset(data_root=str(tmp_path))
    ds = MaskFolderDataset(
        data_root=str(tmp_path), skip_unlabelled=True,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadPromptMasks')])
    assert len(ds) == 2
    assert ds[0]['gt_masks'].shape == (2, 8, 8)
    assert ds[0]['gt_masks'][0].sum() == 9
    (tmp_path / 'val.txt').write_text('b\n')
    assert len(MaskFolderDataset(data_root=str(tmp_path),
                                 split_file='val.txt')) == 1
    (tmp_path / 'bad.txt').write_text('zzz\n')
    with pytest.raises(PromptDatasetError, match='without an image'):
        MaskFolderDataset(data_root=str(tmp_path), split_file='bad.txt')
