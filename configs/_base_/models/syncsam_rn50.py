# SyncSAM-50: frozen SAM ViT-B at 256 px (tables resampled at conversion)
# fused stage by stage with a trainable ResNet-50, multi-scale fusion of the
# first three stages, and the Med-Output-token decoder (SAM's two-way
# transformer and upscaling frozen; see configs/syncsam/README.md).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,  # after normalisation: SAM pads with the mean colour
    size=(256, 256),
    test_cfg=dict(size=(256, 256)))
model = dict(
    type='PromptableSegmentor',
    data_preprocessor=data_preprocessor,
    image_encoder=dict(
        type='SyncSAMEncoder',
        vit=dict(
            type='SAMViT',
            arch='vit-b',
            img_size=256,
            window_size=14,  # kept at 14: a 16 x 16 grid pads to 28 x 28
            out_channels=256,
            with_neck=True,
            frozen=True),
        cnn=dict(
            type='ResNet',  # mmseg's ResNet = torchvision's layout
            depth=50,
            style='pytorch',
            out_indices=(0, 1, 2, 3),
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='data/pretrained/resnet50_torchvision.pth')),
        cnn_channels=(256, 512, 1024, 2048),
        cnn_strides=(4, 8, 16, 32),
        fusion='sync',
        multi_scale=dict(
            type='MultiScaleFusion',
            vit_channels=768,
            embed_channels=256,
            out_channels=32,
            bridge_channels=256)),
    prompt_encoder=dict(
        type='SAMPromptEncoder',
        embed_dims=256,
        image_embedding_size=16,
        input_image_size=256,
        mask_in_channels=16,
        frozen=False),
    mask_decoder=dict(
        type='MedTokenMaskDecoder',
        embed_dims=256,
        depth=2,
        num_heads=8,
        mlp_dims=2048,
        frozen=('transformer', 'output_upscaling'),
        loss_decode=[
            # Pooled over every mask of the batch, as the reference.
            dict(type='MaskDiceLoss', reduction='batch', smooth=1.0,
                 loss_weight=20.0),
            dict(type='MaskFocalLoss', alpha=0.25, gamma=2.0,
                 loss_weight=1.0)
        ]),
    # Interactive simulation (paper: "following SAM, MedSAM, SAM-Med2D");
    # SAM-Med2D's loop, see interactive_simulation.TRAIN_DEFAULTS.
    train_cfg=dict(
        first_prompt=dict(box=0.5, point=0.5),
        num_rounds=8,
        clicks_per_round=(1, 3, 5, 9),
        accumulate_points=False,
        mask_prompt='prob',
        mask_only_rounds=True,
        detach_image_features=True,
        round_reduction='mean'),
    # Mask prompt as in training (SAM-Med2D feeds probabilities in both).
    test_cfg=dict(box=True, points=(1, 5), mask_prompt='prob', seed=0),
    # SAM ViT-B with its 256 px tables, prompt encoder and decoder parts
    # (`sam2promptable.py --img-size 256 --target syncsam`).
    init_cfg=dict(
        type='Pretrained',
        checkpoint='data/pretrained/sam_vit-b_syncsam-256.pth'))
