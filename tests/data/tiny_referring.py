# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiny referring-segmentation model configs for tests: a random LLaVA
(2-layer, 64-wide Llama; 2-layer CLIP tower on 28 px -> 4 image tokens), a
word-level tokenizer and the tiny SAM ViT at 64 px."""
import copy

WORDS = [
    'a', 'chat', 'user', ':', 'assistant', 'can', 'you', 'segment', 'in',
    'this', 'image', '?', 'sure', ',', '.', 'tumor', 'necrosis', 'stroma',
    'the', 'and', 'please', 'what', 'are'
]
NUM_IMAGE_TOKENS = 4
SAM_SIZE = 64
EMBED = 32


def tokenizer(num_seg_tokens=10, use_rej=True, distinct=False):
    return dict(
        words=WORDS,
        num_seg_tokens=num_seg_tokens,
        distinct_seg_tokens=distinct,
        use_rej=use_rej)


LLAVA = dict(
    config=dict(
        text_config=dict(
            model_type='llama',
            vocab_size=32,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=512),
        vision_config=dict(
            model_type='clip_vision_model',
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=28,
            patch_size=14,
            projection_dim=32),
        vision_feature_layer=-2,
        vision_feature_select_strategy='default'))


def model_cfg(tok=None, decoder='single', num_experts=4, top_k=2, lora=True,
              mode='teacher_forced'):
    tok = tok or tokenizer()
    expert = dict(
        type='SAMExpertDecoder',
        transformer_dim=EMBED,
        depth=2,
        mlp_dim=64,
        num_heads=2,
        iou_head_hidden_dim=32)
    mask_decoder = expert if decoder == 'single' else dict(
        type='AdaptiveExpertMixture',
        expert=expert,
        num_experts=num_experts,
        gate=dict(type='AEMGate', top_k=top_k, num_heads=2, mlp_ratio=2))
    mllm = dict(
        type='LlavaSegMLLM',
        llava=copy.deepcopy(LLAVA),
        tokenizer=tok,
        out_channels=EMBED)
    if not lora:
        mllm['lora'] = None
    return dict(
        type='ReferringSegmentor',
        data_preprocessor=dict(
            type='ReferringDataPreprocessor',
            sam_size=SAM_SIZE,
            clip_size=28,
            pad_token_id=3),
        mllm=mllm,
        image_encoder=dict(
            type='SAMViT',
            arch='tiny',
            img_size=SAM_SIZE,
            window_size=4,
            out_channels=EMBED,
            with_neck=True,
            frozen=True),
        prompt_encoder=dict(
            embed_dim=EMBED,
            image_embedding_size=(SAM_SIZE // 16, SAM_SIZE // 16),
            input_image_size=(SAM_SIZE, SAM_SIZE),
            mask_in_chans=4),
        mask_decoder=mask_decoder,
        test_cfg=dict(mode=mode, max_new_tokens=12))
