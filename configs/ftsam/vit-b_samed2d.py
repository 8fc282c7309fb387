# FT-SAM (paper Table 2: 74.6 / 61.1 / 73.2): SAM ViT-B at 256 px with only
# the mask decoder trained (SAM-Med2D's `encoder_adapter=False` also trains
# the 6K-parameter prompt encoder; here it is frozen, "only the mask
# decoder"). SyncSAM's data pipeline and schedule, SAM-Med2D's loss and
# interactive loop (multimask, best by IoU).
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
    image_encoder=dict(vit=dict(img_size=image_size)),
    prompt_encoder=dict(
        image_embedding_size=image_size // 16, input_image_size=image_size),
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
log_processor = dict(by_epoch=True)
