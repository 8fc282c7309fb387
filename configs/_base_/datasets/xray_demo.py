# The synthetic chest X-ray demo with LViT-style reports, written by
# `python tools/misc/generate_xray_demo_data.py` (see data/README.md): each
# image has infections and look-alike opacities; only the report says which
# zones are infected. 64 x 64 grey PNGs, 0/255 masks, csv reports. No flips
# (the reports say left / right).
dataset_type = 'TextSegDataset'
data_root = 'data/xray_demo'
data_prefix = dict(img_path='images', seg_map_path='masks')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBinaryMask'),
    dict(type='PackTextSegInputs'),
]
test_pipeline = train_pipeline
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.csv',
        data_prefix=data_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='val.csv',
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='test.csv',
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='DatasetDiceMetric', per_image=True)
test_evaluator = val_evaluator
