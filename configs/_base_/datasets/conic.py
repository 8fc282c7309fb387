# CoNIC (Lizard patches, 20x, 256 px) in the challenge release layout
# (data/README.md), split by source image: 20% of the source images for
# test, 20% of the rest for validation, seeded and stratified by cohort (see
# mmpathseg/datasets/conic_split.py). `python tools/dataset_converters/
# conic.py data/conic` writes the same split to data/conic/splits.csv; set
# `split_file='splits.csv'` in the three datasets to read (or fix) it.
# For CellVTA's 40x setting see conic_40x.py.
dataset_type = 'CoNICDataset'
data_root = 'data/conic'
split_seed = 0
meta_keys = ('img_path', 'seg_map_path', 'img_index', 'patch_name', 'source',
             'cohort', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
             'flip', 'flip_direction', 'reduce_zero_label', 'tissue',
             'tissue_label')
train_pipeline = [
    dict(type='LoadImageFromNpy'),  # BGR uint8, as LoadImageFromFile
    dict(type='LoadNucleiAnnotations'),  # checks every patch on load
    # CellVTA's augmentations, in its order (identical for CoNIC).
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
    dict(type='PackNucleiInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromNpy'),
    dict(type='LoadNucleiAnnotations'),
    dict(type='PackNucleiInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        split_seed=split_seed,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        split_seed=split_seed,
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
        split='test',
        split_seed=split_seed,
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='NucleiInstanceMetric', aggregation='image')
# Test: per-image averages first (CellViT/CellVTA's "mPQ"), then CoNIC's
# dataset-level pooling (challenge mPQ+, and R² of per-class counts of the
# nuclei touching the central 224 px, as counts.csv); detection F1 with
# CellViT's 6 px radius at 20x.
test_evaluator = dict(
    type='NucleiInstanceMetric',
    aggregation=['image', 'dataset'],
    count_crop=224,
    detection_radius=6)
