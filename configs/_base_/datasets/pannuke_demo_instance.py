# The synthetic PanNuke-layout demo tiles (pannuke_demo.py: data_root,
# folds train 0 / val 1 / test 2, loaders) with nuclei instance targets for
# HoVer-style heads (CellViT, CellVTA): type + instance maps, HV maps, the
# tissue label, and the PQ-family metric.
_base_ = ['./pannuke_demo.py']
crop_size = (128, 128)
# pannuke_demo.py's keys plus `tissue_label` (the tissue head's target).
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'img_index', 'fold', 'tissue',
             'tissue_label')
# The geometric and cheap photometric parts of CellVTA's augmentations
# (pannuke_split1.py); Superpixels, ElasticTransform and the blurs are left
# out to keep a 2-core CPU busy with the model rather than the loaders.
# Random 128 px crops of the 256 px tiles: 4x cheaper steps.
train_pipeline = [
    dict(type='LoadImageFromNpy'),
    dict(type='LoadPanNukeAnnotations'),  # type map + instance map
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomRotate90', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='GaussNoise', var_limit=(0, 10), prob=0.5),
    dict(
        type='ColorJitter',
        brightness=0.25,
        contrast=0.25,
        saturation=0.1,
        hue=0.05,
        prob=0.2),
    dict(type='GenerateHVMap'),  # after every geometric transform
    dict(type='PackNucleiInputs', meta_keys=meta_keys),
]
# Whole 256 px tiles.
test_pipeline = [
    dict(type='LoadImageFromNpy'),
    dict(type='LoadPanNukeAnnotations'),
    dict(type='PackNucleiInputs', meta_keys=meta_keys),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# Per-image means (CellVTA's log numbers). The demo tiles carry tissue
# names, so the test also gives the PanNuke per-tissue average; detection F1
# with CellViT's 12 px radius at 40x.
val_evaluator = dict(
    _delete_=True, type='NucleiInstanceMetric', aggregation='image')
test_evaluator = dict(
    _delete_=True,
    type='NucleiInstanceMetric',
    aggregation=['image', 'tissue'],
    detection_radius=12)
