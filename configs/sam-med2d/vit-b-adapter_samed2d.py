# SAM-Med2D (paper Table 2: 78.2 / 68.3 / 76.7): SAM ViT-B at 256 px, frozen,
# with SAM-Med2D's adapter in every block (trained), prompt encoder and mask
# decoder trained; multimask output with the best-IoU mask, 20 x focal +
# Dice + IoU MSE, its interactive loop (box or point, then 8 rounds of
# 1/3/5/9 error clicks, mask prompt as probabilities). Its preprocessing:
# images smaller than 256 on both sides centre-padded, others resized to
# 256 x 256 (aspect lost, nearest); boxes from the resized mask, translated
# by up to 5 px.
_base_ = [
    '../_base_/models/sam_vit-b.py', '../_base_/datasets/samed2d.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_promptable_12e.py'
]
image_size = 256
model = dict(
    data_preprocessor=dict(
        size=(image_size, image_size),
        test_cfg=dict(size=(image_size, image_size))),
    image_encoder=dict(
        vit=dict(type='SAMAdapterViT', img_size=image_size,
                 adapter_ratio=0.25)),
    prompt_encoder=dict(
        image_embedding_size=image_size // 16,
        input_image_size=image_size,
        frozen=False),
    mask_decoder=dict(
        frozen=(),
        multimask_output=True,
        loss_decode=[
            dict(type='MaskFocalLoss', loss_weight=20.0),
            dict(type='MaskDiceLoss', loss_weight=1.0),
            dict(type='MaskIoUMSELoss', loss_weight=1.0)
        ]),
    train_cfg=dict(num_rounds=8, mask_prompt='prob'),
    test_cfg=dict(mask_prompt='prob'),
    init_cfg=dict(checkpoint='data/pretrained/sam_vit-b_promptable-256.pth'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='SampleMasks', num_masks=5, replace=True),
    dict(type='LoadPromptMasks'),
    dict(type='PromptResize', size=image_size, mode='samed2d',
         interpolation='nearest'),
    dict(type='GenerateBoxPrompt', jitter='translate', max_shift=5),
    dict(type='GeneratePointPrompt', num_points=1),
    dict(type='PackPromptInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPromptMasks', keep_ori=True),
    dict(type='PromptResize', size=image_size, mode='samed2d',
         interpolation='nearest'),
    dict(type='GenerateBoxPrompt', jitter='none'),
    dict(type='GeneratePointPrompt', num_points=1, seed=0),
    dict(type='PackPromptInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
log_processor = dict(by_epoch=True)
