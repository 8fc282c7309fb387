# SAM ViT-B as a promptable segmentor at 1024 px: image encoder (ViT + neck),
# prompt encoder and SAM's mask decoder, with the official weights converted
# by `tools/model_converters/sam2promptable.py` (tensors only). Everything
# frozen: the zero-shot baseline. Variants unfreeze parts.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    size=(1024, 1024),
    test_cfg=dict(size=(1024, 1024)))
model = dict(
    type='PromptableSegmentor',
    data_preprocessor=data_preprocessor,
    image_encoder=dict(
        type='SAMImageEncoder',
        vit=dict(
            type='SAMViT',
            arch='vit-b',
            img_size=1024,
            window_size=14,
            out_channels=256,
            with_neck=True,
            frozen=True)),
    prompt_encoder=dict(
        type='SAMPromptEncoder',
        embed_dims=256,
        image_embedding_size=64,
        input_image_size=1024,
        mask_in_channels=16,
        frozen=True),
    mask_decoder=dict(
        type='SAMMaskDecoder',
        embed_dims=256,
        depth=2,
        num_heads=8,
        mlp_dims=2048,
        multimask_output=False,
        frozen=True),
    # Zero-shot: no training. Test: box, then 1 and 5 sequential clicks.
    test_cfg=dict(box=True, points=(1, 5), mask_prompt='logits'),
    init_cfg=dict(
        type='Pretrained',
        checkpoint='data/pretrained/sam_vit-b_promptable-1024.pth'))
