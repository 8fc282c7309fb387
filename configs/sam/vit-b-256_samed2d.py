# SAM ViT-B zero-shot at 256 px (SAM-Med2D's README row "SAM 256": 61.63 /
# 18.94 / 37.47 with 1 / 3 / 5 points): position embedding and global
# relative-position tables resampled to the 16 x 16 grid (bilinear /
# linear, done by `sam2promptable.py --img-size 256`), SAM's own mask
# decoder kept (not re-initialised as SAM-Med2D's loader does).
_base_ = ['./vit-b-1024_samed2d.py']
image_size = 256
model = dict(
    data_preprocessor=dict(
        size=(image_size, image_size),
        test_cfg=dict(size=(image_size, image_size))),
    image_encoder=dict(vit=dict(img_size=image_size)),
    prompt_encoder=dict(
        image_embedding_size=image_size // 16, input_image_size=image_size),
    init_cfg=dict(checkpoint='data/pretrained/sam_vit-b_promptable-256.pth'))
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
