# QaTa-COV19-v2 chest X-rays with LViT's report sentences (see data/README.md
# for the layout). Split as Ariadne's Thread / MLMoE: the first 80% of the
# train workbook's rows train, the last 20% validate (5716 / 1429), the test
# workbook tests (2113). LViT's own ID lists give the same sizes: use
# `split_file='Train_ID.xlsx'` / `'Val_ID.xlsx'` instead of `row_range`.
# Images are resized to 224 x 224 (masks nearest) and evaluated there.
# No flips: the reports say "left"/"right" lung.
dataset_type = 'QaTaCOV19Dataset'
data_root = 'data/QaTa-COV19'
img_scale = (224, 224)
train_ann = 'Train_text_for_Covid19.xlsx'
test_ann = 'Test_text_for_Covid19.xlsx'
train_prefix = dict(
    img_path='Train Set/Images', seg_map_path='Train Set/Ground-truths')
test_prefix = dict(
    img_path='Test Set/Images', seg_map_path='Test Set/Ground-truths')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadBinaryMask'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    # Ariadne: RandZoom(0.95-1.2, p=0.1), the only augmentation. A zoom
    # below 1 leaves a border that the data preprocessor pads (mask 255,
    # ignored by the losses).
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
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=train_ann,
        data_prefix=train_prefix,
        row_range=(0.0, 0.8),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=train_ann,
        data_prefix=train_prefix,
        row_range=(0.8, 1.0),
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
        ann_file=test_ann,
        data_prefix=test_prefix,
        test_mode=True,
        pipeline=test_pipeline))
# Foreground Dice / IoU pooled over the set (Ariadne, MLMoE); the per-image
# means (LViT's convention) are reported beside them.
val_evaluator = dict(type='DatasetDiceMetric', per_image=True)
test_evaluator = val_evaluator
