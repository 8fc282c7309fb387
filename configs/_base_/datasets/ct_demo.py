# Synthetic CT-like slices with organs in the SA-Med2D layout, written by
# `python tools/misc/generate_ct_demo_data.py` (data/ct_demo). The same
# SAMed2DDataset and prompt pipeline as the real SA-Med2D configs, at 128 px.
dataset_type = 'SAMed2DDataset'
data_root = 'data/ct_demo'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='SampleMasks', num_masks=5, replace=True),
    dict(type='LoadPromptMasks'),
    dict(type='GenerateBoxPrompt', jitter='translate', max_shift=5),
    dict(type='GeneratePointPrompt', num_points=1),
    dict(type='PromptResize', size=128, mode='longest'),
    dict(type='PackPromptInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPromptMasks', keep_ori=True),
    dict(type='GenerateBoxPrompt', jitter='none'),
    dict(type='GeneratePointPrompt', num_points=1, seed=0),
    dict(type='PromptResize', size=128, mode='longest'),
    dict(type='PackPromptInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='image2label_train.json',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='label2image_test.json',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PromptDiceMetric', modes=('box', '1pt', '5pt'))
test_evaluator = val_evaluator
