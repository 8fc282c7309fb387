# A tiny random GSVA for CPU demos and tests: LLaVA with a 2-layer, 64-wide
# Llama and a 2-layer CLIP tower on 56 px (16 image tokens), the tiny SAM
# ViT at 128 px (8 x 8 embedding), 64-wide prompts and one mask decoder.
# Nothing is loaded from disk; set model.mllm.tokenizer in the top config.
# Unlike the pretrained full-size models, the random SAM image encoder is
# trained here (frozen random SAM features: gIoU 1.6 after 400 iterations).
# The random CLIP tower and LLaVA's projector stay frozen, as in LISA:
# trained at the demo's learning rate they turned the image tokens into a
# large near-constant vector (norm 0.09 -> 34, variation across images 58 %
# -> 10 %) and the states that predict [SEG]/[REJ] stopped depending on the
# image (relative change when the image is swapped 0.20 -> 0.001). The
# random language model is trained whole (LoRA stays on q/v as at full
# size): with LoRA alone on a frozen random 2-layer LLM the [SEG]/[REJ]
# decisions followed the expression's text only (configs/ltse/README.md).
model = dict(
    type='ReferringSegmentor',
    data_preprocessor=dict(
        type='ReferringDataPreprocessor',
        sam_size=128,
        clip_size=56,
        pad_token_id=3,  # <pad> of the word-level tokenizer
        bgr_to_rgb=True),
    mllm=dict(
        type='LlavaSegMLLM',
        llava=dict(
            config=dict(
                text_config=dict(
                    model_type='llama',
                    vocab_size=64,
                    hidden_size=64,
                    intermediate_size=128,
                    num_hidden_layers=2,
                    num_attention_heads=4,
                    num_key_value_heads=4,
                    max_position_embeddings=256),
                vision_config=dict(
                    model_type='clip_vision_model',
                    hidden_size=32,
                    intermediate_size=64,
                    num_hidden_layers=2,
                    num_attention_heads=4,
                    image_size=56,
                    patch_size=14,
                    projection_dim=32),
                vision_feature_layer=-2,
                vision_feature_select_strategy='default')),
        tokenizer=dict(),
        out_channels=64,
        lora=dict(r=8, lora_alpha=16, lora_dropout=0.05),
        train_mm_projector=False,
        train_vision_tower=False,
        train_language_model=True),
    image_encoder=dict(
        type='SAMViT',
        arch='tiny',
        img_size=128,
        window_size=4,
        out_channels=64,
        with_neck=True,
        frozen=True),
    prompt_encoder=dict(
        embed_dim=64,
        image_embedding_size=(8, 8),
        input_image_size=(128, 128),
        mask_in_chans=4),
    mask_decoder=dict(
        type='SAMExpertDecoder',
        transformer_dim=64,
        depth=2,
        mlp_dim=64,
        num_heads=2,
        iou_head_hidden_dim=64),
    train_image_encoder=True,
    loss_weights=dict(ce=1.0, bce=2.0, dice=0.5),
    test_cfg=dict(mode='teacher_forced', max_new_tokens=24,
                  mask_threshold=0.0))
