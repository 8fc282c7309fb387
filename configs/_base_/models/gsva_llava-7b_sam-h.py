# GSVA (Xia et al., CVPR 2024) on LLaVA-7B-v1-1 + SAM ViT-H: one [SEG] token
# reused for up to M = 10 targets, a [REJ] token, one SAM mask decoder.
# Weights are read from local folders only (see configs/ltse/README.md).
llava_path = 'checkpoints/llava-7b-v1-1-hf'  # transformers-format LLaVA
sam_checkpoint = 'checkpoints/sam_vit_h_4b8939.pth'
model = dict(
    type='ReferringSegmentor',
    data_preprocessor=dict(
        type='ReferringDataPreprocessor',
        sam_size=1024,
        clip_size=224,
        pad_token_id=0,  # LLaMA's unk, LISA's pad
        bgr_to_rgb=True),
    mllm=dict(
        type='LlavaSegMLLM',
        llava=dict(pretrained=llava_path, torch_dtype='bfloat16'),
        # The tokenizer (with the task tokens) is shared with the data
        # pipeline: top-level configs set it from the dataset base's
        # `tokenizer` (model = dict(mllm=dict(tokenizer=...))).
        tokenizer=dict(),
        out_channels=256,
        lora=dict(
            r=8,
            lora_alpha=16,
            lora_dropout=0.05,
            target_modules=r'.*language_model.*\.(q_proj|v_proj)'),
        gradient_checkpointing=True),
    image_encoder=dict(
        type='SAMViT',
        arch='vit-h',
        img_size=1024,
        out_channels=256,
        with_neck=True,
        frozen=True),
    prompt_encoder=dict(
        embed_dim=256,
        image_embedding_size=(64, 64),
        input_image_size=(1024, 1024),
        mask_in_chans=16),
    mask_decoder=dict(
        type='SAMExpertDecoder',
        transformer_dim=256,
        depth=2,
        mlp_dim=2048,
        num_heads=8,
        num_multimask_outputs=3,
        iou_head_depth=3,
        iou_head_hidden_dim=256),
    loss_weights=dict(ce=1.0, bce=2.0, dice=0.5),
    sam_pretrained=sam_checkpoint,
    test_cfg=dict(mode='teacher_forced', max_new_tokens=64,
                  mask_threshold=0.0))
