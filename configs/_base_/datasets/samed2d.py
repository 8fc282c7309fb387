# SA-Med2D-20M ("SA-Med2D-16M" as released) at SyncSAM's 256 px: longest
# side to 256, the data preprocessor pads bottom-right to 256 x 256 after
# normalising (SAM's `preprocess`). Training: 5 masks per image drawn with
# replacement, a box of the largest component translated by up to 5 px at
# the original resolution, one GT point; test: every mask of each test
# image, tight box, one seeded point, original-resolution masks kept for the
# metric. The split is SyncSAM's own 80/20 image-level split (the official
# test part is not public): put its two JSON files in `data_root`.
dataset_type = 'SAMed2DDataset'
data_root = 'data/SA-Med2D-16M'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='SampleMasks', num_masks=5, replace=True),
    dict(type='LoadPromptMasks'),
    dict(type='GenerateBoxPrompt', jitter='translate', max_shift=5),
    dict(type='GeneratePointPrompt', num_points=1),
    dict(type='PromptResize', size=256, mode='longest'),
    dict(type='PackPromptInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPromptMasks', keep_ori=True),
    dict(type='GenerateBoxPrompt', jitter='none'),
    dict(type='GeneratePointPrompt', num_points=1, seed=0),
    dict(type='PromptResize', size=256, mode='longest'),
    dict(type='PackPromptInputs'),
]
train_dataloader = dict(
    batch_size=50,  # per GPU: 50 images, 250 masks (paper, 8 GPUs)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='image2label_train.json',
        # 3M images: let the loader report missing files instead.
        check_files=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='label2image_test.json',
        check_files=False,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PromptDiceMetric', modes=('box', '1pt', '5pt'))
test_evaluator = val_evaluator
