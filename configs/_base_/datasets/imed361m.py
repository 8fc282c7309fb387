# IMed-361M (official split, every per-dataset folder under data_root) at
# SyncSAM's 256 px. Its labels are sparse matrices, one row per class: every
# non-empty row is one mask. Same prompts, resize and metric as
# samed2d.py. IMIS-Bench itself averages per image first; the SyncSAM
# tables average per mask (set aggregation='image' for IMIS's convention).
dataset_type = 'IMed361MDataset'
data_root = 'data/IMed-361M'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadIMedLabels'),
    dict(type='SampleMasks', num_masks=5, replace=True),
    dict(type='GenerateBoxPrompt', jitter='translate', max_shift=5),
    dict(type='GeneratePointPrompt', num_points=1),
    dict(type='PromptResize', size=256, mode='longest'),
    dict(type='PackPromptInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadIMedLabels', keep_ori=True),
    dict(type='GenerateBoxPrompt', jitter='none'),
    dict(type='GeneratePointPrompt', num_points=1, seed=0),
    dict(type='PromptResize', size=256, mode='longest'),
    dict(type='PackPromptInputs'),
]
train_dataloader = dict(
    batch_size=50,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='training',
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
        split='test',
        check_files=False,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='PromptDiceMetric', modes=('box', '1pt', '5pt'),
    dataset_key='dataset_name')
test_evaluator = val_evaluator
