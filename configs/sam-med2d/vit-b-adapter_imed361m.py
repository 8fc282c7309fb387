# SAM-Med2D on IMed-361M (paper Table 3: 82.3 / 78.7 / 83.6); see
# vit-b-adapter_samed2d.py.
_base_ = ['./vit-b-adapter_samed2d.py']
image_size = 256
_imed = dict(
    type='IMed361MDataset', data_root='data/IMed-361M', check_files=False,
    _delete_=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadIMedLabels'),
    dict(type='SampleMasks', num_masks=5, replace=True),
    dict(type='PromptResize', size=image_size, mode='samed2d',
         interpolation='nearest'),
    dict(type='GenerateBoxPrompt', jitter='translate', max_shift=5),
    dict(type='GeneratePointPrompt', num_points=1),
    dict(type='PackPromptInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadIMedLabels', keep_ori=True),
    dict(type='PromptResize', size=image_size, mode='samed2d',
         interpolation='nearest'),
    dict(type='GenerateBoxPrompt', jitter='none'),
    dict(type='GeneratePointPrompt', num_points=1, seed=0),
    dict(type='PackPromptInputs'),
]
train_dataloader = dict(
    dataset=dict(_imed, split='training', pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _imed, split='test', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
