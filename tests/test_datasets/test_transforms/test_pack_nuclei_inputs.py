# Copyright (c) mmpathseg contributors. All rights reserved.
"""PackNucleiInputs, and the CellVTA training pipeline end to end on
synthetic and real tiles."""
import copy

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmseg.structures import SegDataSample

from mmpathseg.datasets.transforms import PackNucleiInputs
from mmpathseg.datasets.transforms.nuclei_targets import instance_hv_map
from mmpathseg.registry import TRANSFORMS

# The augmentation part of the CellVTA pipeline (report / configs).
CELLVTA_AUGMENTATION = [
    dict(type='RandomRotate90', prob=0.2),
    dict(type='RandomFlip', prob=0.2, direction='horizontal'),
    dict(type='RandomFlip', prob=0.2, direction='vertical'),
    dict(type='Blur', blur_limit=10, prob=0.2),
    dict(type='GaussNoise', var_limit=(0, 10), prob=0.5),
    dict(
        type='ColorJitter',
        brightness=0.25,
        contrast=0.25,
        saturation=0.1,
        hue=0.05,
        prob=0.2),
    dict(
        type='Superpixels',
        p_replace=0.1,
        n_segments=200,
        max_size=128,
        prob=0.1),
    dict(type='ZoomBlur', max_factor=1.05, prob=0.1),
    dict(type='RandomSizedCrop', min_max_height=(128, 256), prob=0.2),
    dict(
        type='ElasticTransform',
        alpha=0.5,
        sigma=25,
        alpha_affine=15,
        prob=0.2),
    dict(type='GenerateHVMap'),
    dict(type='PackNucleiInputs'),
]


def test_pack(nuclei_sample):
    results, before = nuclei_sample()
    results.update(
        img_path='fold1/images.npy',
        img_index=3,
        tissue='Breast',
        tissue_label=3,
        gt_hv_map=instance_hv_map(results['gt_inst_map']))
    transform = TRANSFORMS.build(dict(type='PackNucleiInputs'))
    assert isinstance(transform, PackNucleiInputs)
    packed = transform(results)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert isinstance(sample, SegDataSample)
    assert inputs.shape == (3, 64, 64) and inputs.dtype == torch.uint8
    assert torch.equal(inputs, torch.from_numpy(before['img']).permute(
        2, 0, 1))
    assert sample.gt_sem_seg.data.shape == (1, 64, 64)
    assert sample.gt_sem_seg.data.dtype == torch.int64
    assert sample.gt_instance_map.data.dtype == torch.int64
    np.testing.assert_array_equal(sample.gt_instance_map.data[0].numpy(),
                                  before['gt_inst_map'])
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                  before['gt_seg_map'])
    assert sample.gt_hv_map.data.shape == (2, 64, 64)
    assert sample.gt_hv_map.data.dtype == torch.float32
    meta = sample.metainfo
    assert meta['tissue'] == 'Breast' and meta['tissue_label'] == 3
    assert meta['img_index'] == 3 and meta['img_shape'] == (64, 64)
    assert 'flip' not in meta  # absent keys are skipped


def test_pack_refuses_misaligned_maps(nuclei_sample):
    results, _ = nuclei_sample()
    results['img_path'] = 'x.npy'
    results['img_index'] = 7
    results['gt_inst_map'] = results['gt_inst_map'][:, :-1]
    with pytest.raises(ValueError, match=r'gt_inst_map of x.npy\[7\]'):
        PackNucleiInputs()(results)
    results, _ = nuclei_sample()
    results['gt_hv_map'] = np.zeros((2, 64, 63), np.float32)
    with pytest.raises(ValueError, match='gt_hv_map'):
        PackNucleiInputs()(results)


def test_cellvta_pipeline_on_nucls(nucls_samples, check_instances):
    """Every augmentation at probability 1, then targets and packing."""
    always = [
        dict(cfg, prob=1.0) if 'prob' in cfg else cfg
        for cfg in CELLVTA_AUGMENTATION
    ]
    pipeline = Compose([TRANSFORMS.build(cfg) for cfg in always[:-2]])
    pack = Compose([TRANSFORMS.build(cfg) for cfg in always[-2:]])
    np.random.seed(0)
    for sample in nucls_samples[:2]:
        results = pipeline(copy.deepcopy(sample))
        check_instances(sample, results)
        packed = pack(results)
        data_sample = packed['data_samples']
        assert packed['inputs'].shape == (3, 256, 256)
        inst = data_sample.gt_instance_map.data[0].numpy()
        np.testing.assert_array_equal(inst, results['gt_inst_map'])
        np.testing.assert_array_equal(
            data_sample.gt_hv_map.data.numpy(), instance_hv_map(inst))


def test_cellvta_pipeline_default_probabilities(nuclei_sample,
                                                check_instances):
    pipeline = Compose([TRANSFORMS.build(cfg) for cfg in CELLVTA_AUGMENTATION])
    for seed in range(10):
        np.random.seed(seed)
        results, before = nuclei_sample(
            height=256, width=256, num=60, seed=seed)
        packed = pipeline(results)
        data_sample = packed['data_samples']
        after = dict(
            img=packed['inputs'].permute(1, 2, 0).numpy(),
            gt_inst_map=data_sample.gt_instance_map.data[0].numpy().astype(
                np.int32),
            gt_seg_map=data_sample.gt_sem_seg.data[0].numpy().astype(
                np.uint8))
        check_instances(before, after)
