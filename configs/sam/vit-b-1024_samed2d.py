# SAM ViT-B zero-shot at 1024 px on the SA-Med2D test split (paper Table 2:
# 66.6 / 24.5 / 52.8). No training: `tools/test.py` with the converted SAM
# checkpoint (any checkpoint argument works, the weights come from
# init_cfg; pass the same converted file).
_base_ = [
    '../_base_/models/sam_vit-b.py', '../_base_/datasets/samed2d.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_promptable_12e.py'
]
image_size = 1024
_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPromptMasks', keep_ori=True),
    dict(type='GenerateBoxPrompt', jitter='none'),
    dict(type='GeneratePointPrompt', num_points=1, seed=0),
    dict(type='PromptResize', size=image_size, mode='longest'),
    dict(type='PackPromptInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=_test_pipeline))
test_dataloader = val_dataloader
# Nothing trains: no training loop.
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
log_processor = dict(by_epoch=True)
