# SAM ViT-B zero-shot at 1024 px on the IMed-361M test split (paper Table
# 3: 67.2 / 23.3 / 51.4).
_base_ = [
    '../_base_/models/sam_vit-b.py', '../_base_/datasets/imed361m.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_promptable_12e.py'
]
image_size = 1024
_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadIMedLabels', keep_ori=True),
    dict(type='GenerateBoxPrompt', jitter='none'),
    dict(type='GeneratePointPrompt', num_points=1, seed=0),
    dict(type='PromptResize', size=image_size, mode='longest'),
    dict(type='PackPromptInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=_test_pipeline))
test_dataloader = val_dataloader
train_dataloader = None
train_cfg = None
optim_wrapper = None
param_scheduler = None
log_processor = dict(by_epoch=True)
