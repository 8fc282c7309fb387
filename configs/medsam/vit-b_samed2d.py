# MedSAM (paper Table 2: 80.8 box; no point mode): SAM ViT-B at 1024 px,
# image encoder and mask decoder trained, prompt encoder frozen, box prompts
# only, single mask, Dice (per mask, squared, MONAI) + BCE. Its input
# convention: resize to 1024 x 1024 (aspect lost, bicubic), min-max scale to
# [0, 1], no SAM mean/std. Training box: tight box of all foreground with
# every side moved out by 0-20 px at 1024. AdamW lr 1e-4 wd 0.01.
_base_ = [
    '../_base_/models/sam_vit-b.py', '../_base_/datasets/samed2d.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_promptable_12e.py'
]
image_size = 1024
model = dict(
    data_preprocessor=dict(mean=[0., 0., 0.], std=[1., 1., 1.]),
    image_encoder=dict(vit=dict(frozen=False)),
    mask_decoder=dict(
        frozen=(),
        multimask_output=False,
        loss_decode=[
            dict(type='MaskDiceLoss', reduction='mask', squared=True,
                 smooth=1e-5, loss_weight=1.0),
            dict(type='MaskBCELoss', loss_weight=1.0)
        ]),
    train_cfg=dict(first_prompt=dict(box=1.0), num_rounds=0),
    test_cfg=dict(box=True, points=()),
    init_cfg=dict(
        checkpoint='data/pretrained/sam_vit-b_promptable-1024.pth'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='SampleMasks', num_masks=1),
    dict(type='LoadPromptMasks'),
    dict(type='PromptResize', size=image_size, mode='square',
         interpolation='bicubic'),
    dict(type='MinMaxScale'),
    dict(type='GenerateBoxPrompt', jitter='expand', max_shift=20,
         largest_component=False),
    dict(type='PackPromptInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPromptMasks', keep_ori=True),
    dict(type='PromptResize', size=image_size, mode='square',
         interpolation='bicubic'),
    dict(type='MinMaxScale'),
    dict(type='GenerateBoxPrompt', jitter='none', largest_component=False),
    dict(type='PackPromptInputs'),
]
train_dataloader = dict(
    batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PromptDiceMetric', modes=('box', '1pt', '5pt'))
test_evaluator = val_evaluator
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01))
log_processor = dict(by_epoch=True)
