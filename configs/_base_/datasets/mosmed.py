# MosMedData+ CT slices with LViT's report sentences (see data/README.md):
# one folder of frames and masks; LViT's published train / val / test
# workbooks select the splits (the usual 2183 / 273 / 273).
# Images resized to 224 x 224 and evaluated there. No flips (the reports say
# "left"/"right" lung).
dataset_type = 'MosMedPlusDataset'
data_root = 'data/MosMedDataPlus'
img_scale = (224, 224)
data_prefix = dict(img_path='frames', seg_map_path='masks')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBinaryMask'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(
        type='RandomApply',
        prob=0.1,
        transforms=[
            dict(
                type='RandomResize',
                scale=img_scale,
                ratio_range=(0.95, 1.2),
                keep_ratio=True),
            dict(type='RandomCrop', crop_size=img_scale),
        ]),
    dict(type='PackTextSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBinaryMask'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='PackTextSegInputs'),
]

train_dataloader = dict(
    batch_size=24,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='Train_text_MosMedData+ 1.xlsx',
        data_prefix=data_prefix,
        test_mode=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='Val_text_MosMedData+ 1.xlsx',
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='Test_text_MosMedData+.xlsx',
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='DatasetDiceMetric', per_image=True)
test_evaluator = val_evaluator
