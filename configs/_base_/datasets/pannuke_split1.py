# PanNuke in its release layout (data/README.md), split 1 of CellViT and
# CellVTA with 0-based folds ("Fold 1" = fold 0): train 0, val 1, test 2.
# pannuke_split2.py / pannuke_split3.py inherit this file and only change
# the folds.
dataset_type = 'PanNukeDataset'
data_root = 'data/pannuke'
# mmseg's meta keys plus the row, fold and tissue of each tile (the tissue
# head and the per-tissue metric read `tissue` / `tissue_label`).
meta_keys = ('img_path', 'seg_map_path', 'img_index', 'fold', 'ori_shape',
             'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label', 'tissue', 'tissue_label')
train_pipeline = [
    dict(type='LoadImageFromNpy'),  # BGR uint8, as LoadImageFromFile
    dict(type='LoadPanNukeAnnotations'),  # type map + instance map
    # CellVTA's augmentations, in its order (albumentations 1.3 settings).
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
    dict(type='GenerateHVMap'),  # after every geometric transform
    dict(type='PackNucleiInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromNpy'),
    dict(type='LoadPanNukeAnnotations'),
    dict(type='PackNucleiInputs', meta_keys=meta_keys),
]
# CellVTA: batch 8 for training. (Its "cell + tissue" weighted sampler is not
# reproduced here; samples are drawn uniformly.)
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=[0],
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=[1],
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=[2],
        test_mode=True,
        pipeline=test_pipeline))
# Validation: per-image averages (CellVTA selects the checkpoint on bPQ).
val_evaluator = dict(type='NucleiInstanceMetric', aggregation='image')
# Test: the PanNuke-official per-tissue average first (CellViT and PanNuke
# papers), then CellVTA's per-image average (its "0.506 mPQ"); detection F1
# with CellViT's 12 px radius at 40x.
test_evaluator = dict(
    type='NucleiInstanceMetric',
    aggregation=['tissue', 'image'],
    detection_radius=12)
