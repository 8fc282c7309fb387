# MedSAM on IMed-361M (paper Table 3: 83.8 box); see vit-b_samed2d.py.
_base_ = ['./vit-b_samed2d.py']
image_size = 1024
_imed = dict(
    type='IMed361MDataset', data_root='data/IMed-361M', check_files=False,
    _delete_=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadIMedLabels'),
    dict(type='SampleMasks', num_masks=1),
    dict(type='PromptResize', size=image_size, mode='square',
         interpolation='bicubic'),
    dict(type='MinMaxScale'),
    dict(type='GenerateBoxPrompt', jitter='expand', max_shift=20,
         largest_component=False),
    dict(type='PackPromptInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadIMedLabels', keep_ori=True),
    dict(type='PromptResize', size=image_size, mode='square',
         interpolation='bicubic'),
    dict(type='MinMaxScale'),
    dict(type='GenerateBoxPrompt', jitter='none', largest_component=False),
    dict(type='PackPromptInputs'),
]
train_dataloader = dict(
    dataset=dict(_imed, split='training', pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _imed, split='test', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
