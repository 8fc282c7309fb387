# FT-SAM on IMed-361M (paper Table 3: 80.1 / 78.3 / 81.9); see
# vit-b_samed2d.py. The IMed-361M data of `_base_/datasets/imed361m.py`.
_base_ = ['./vit-b_samed2d.py']
_imed = dict(
    type='IMed361MDataset', data_root='data/IMed-361M', check_files=False,
    _delete_=True)
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
    dataset=dict(_imed, split='training', pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _imed, split='test', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
