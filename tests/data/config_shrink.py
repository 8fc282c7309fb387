# Copyright (c) mmpathseg contributors. All rights reserved.
"""cfg-options that shrink full-size configs for ``tests/test_configs.py``.

Keys are globs on the config path relative to the repository root; values are
``--cfg-options``-style dicts merged into the config before the model is
built. Every key must match at least one config (the test checks it).
"""
# CellViT / CellVTA decoders: narrow skips and upsampling paths (the
# full-size widths are checked by tests/test_models/test_heads).
_CELLVIT_HEAD = {
    'model.decode_head.in_channels': 64,
    'model.decode_head.bottleneck_channels': 32,
    'model.decode_head.deconv_skip_channels': (32, 16),
    'model.decode_head.decoder_channels': (16, 32, 32),
}
# CellVTA adapter on a 4-block, 64-wide ViT.
_CELLVTA_ADAPTER = {
    'model.backbone.vit.arch': 'tiny',
    'model.backbone.interaction_indexes': [[0, 0], [1, 1], [2, 2], [3, 3]],
    'model.backbone.conv_inplane': 16,
}

SHRINK = {
    'configs/cellvta/uni_*.py': {
        **_CELLVTA_ADAPTER,
        **_CELLVIT_HEAD
    },
    'configs/cellvta/sam-*.py': {
        **_CELLVTA_ADAPTER, 'model.backbone.vit.img_size': 256,
        **_CELLVIT_HEAD
    },
    'configs/cellvit/sam-*.py': {
        'model.backbone.arch': 'tiny',
        'model.backbone.img_size': 256,
        **_CELLVIT_HEAD
    },
    'configs/cellvit/uni*.py': {
        'model.backbone.arch': 'tiny',
        'model.backbone.out_indices': (0, 1, 2, 3),
        **_CELLVIT_HEAD
    },
}

# Text-guided family (Ariadne's Thread, MLMoE): a 1-block-per-stage ConvNeXt
# (8..64 wide), a 2-layer 32-wide random BERT, a 4-wide head; the full-size
# widths and parameter counts are checked in tests/test_models.
_TINY_BERT = dict(
    vocab_size=64,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=64)
_GUIDE_TINY = {
    'model.backbone.arch': dict(
        _delete_=True, depths=[1, 1, 1, 1], channels=[8, 16, 32, 64]),
    'model.text_encoder.bert_config': _TINY_BERT,
    'model.decode_head.in_channels': (8, 16, 32, 64),
    'model.decode_head.text_channels': 32,
    'model.decode_head.head_channels': 4,
}
SHRINK.update({
    'configs/ariadne/convnext-t_*.py': _GUIDE_TINY,
    'configs/mlmoe/convnext-t*.py': _GUIDE_TINY,
    'configs/mlmoe/convnext-t*_virtual-prompt*.py': {
        **_GUIDE_TINY, 'model.virtual_prompt.embed_dims': 32
    },
    'configs/mlmoe/unet-s5-d16_fcn_*.py': {
        'model.backbone.base_channels': 4,
        'model.decode_head.in_channels': 4,
        'model.decode_head.channels': 4,
    },
})

# Promptable family (SAM, FT-SAM, MedSAM, SAM-Med2D, SyncSAM): a 32-wide,
# 8-block ViT (4 stages) at 64 px, ResNet-18 with 8 base channels, 32-wide
# prompt encoder and decoder. Full-size shapes and module sizes are checked
# by tests/test_models/test_syncsam/test_sam_parts.py.
_PROMPT_TINY = {
    'model.data_preprocessor.size': (64, 64),
    'model.data_preprocessor.test_cfg.size': (64, 64),
    'model.image_encoder.vit.arch': dict(
        _delete_=True, embed_dims=32, num_layers=8, num_heads=2,
        global_attn_indexes=(1, 3, 5, 7)),
    'model.image_encoder.vit.img_size': 64,
    'model.image_encoder.vit.window_size': 2,
    'model.image_encoder.vit.out_channels': 32,
    'model.prompt_encoder.embed_dims': 32,
    'model.prompt_encoder.image_embedding_size': 4,
    'model.prompt_encoder.input_image_size': 64,
    'model.prompt_encoder.mask_in_channels': 8,
    'model.mask_decoder.embed_dims': 32,
    'model.mask_decoder.depth': 1,
    'model.mask_decoder.num_heads': 2,
    'model.mask_decoder.mlp_dims': 64,
}
_SYNCSAM_TINY = {
    **_PROMPT_TINY,
    'model.image_encoder.cnn.depth': 18,
    'model.image_encoder.cnn.base_channels': 8,
    'model.image_encoder.cnn.stem_channels': 8,
    'model.image_encoder.cnn_channels': (8, 16, 32, 64),
    'model.image_encoder.multi_scale.vit_channels': 32,
    'model.image_encoder.multi_scale.embed_channels': 32,
    'model.image_encoder.multi_scale.out_channels': 4,
    'model.image_encoder.multi_scale.bridge_channels': 8,
}
SHRINK.update({
    'configs/syncsam/*.py': _SYNCSAM_TINY,
    'configs/sam/*.py': {
        **_PROMPT_TINY, 'model.mask_decoder.iou_head_hidden_dims': 32
    },
    'configs/ftsam/*.py': {
        **_PROMPT_TINY, 'model.mask_decoder.iou_head_hidden_dims': 32
    },
    'configs/medsam/*.py': {
        **_PROMPT_TINY, 'model.mask_decoder.iou_head_hidden_dims': 32
    },
    'configs/sam-med2d/*.py': {
        **_PROMPT_TINY, 'model.mask_decoder.iou_head_hidden_dims': 32
    },
})

# LISA / GSVA / LTSE: a random 2-layer LLaVA and a word-level tokenizer in
# place of the local LLaVA-7B folder, the tiny SAM ViT at 64 px, narrow
# decoder MLPs; SAM weights are not read.
_TINY_LLAVA = dict(
    _delete_=True,
    config=dict(
        text_config=dict(
            model_type='llama', vocab_size=32, hidden_size=64,
            intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=4, max_position_embeddings=256),
        vision_config=dict(
            model_type='clip_vision_model', hidden_size=32,
            intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            image_size=28, patch_size=14, projection_dim=32)))


def _referring(use_rej: bool, num_seg_tokens: int, aem: bool) -> dict:
    decoder = 'model.mask_decoder.expert' if aem else 'model.mask_decoder'
    return {
        'model.mllm.llava': _TINY_LLAVA,
        'model.mllm.tokenizer': dict(
            _delete_=True, words=['sure', 'tumor'],
            num_seg_tokens=num_seg_tokens, use_rej=use_rej),
        'model.mllm.gradient_checkpointing': False,
        'model.sam_pretrained': None,
        'model.image_encoder.arch': 'tiny',
        'model.image_encoder.img_size': 64,
        'model.prompt_encoder.image_embedding_size': (4, 4),
        'model.prompt_encoder.input_image_size': (64, 64),
        f'{decoder}.mlp_dim': 64,
    }


SHRINK.update({
    'configs/ltse/llava-7b_*.py': _referring(True, 10, aem=True),
    'configs/ltse/llava-7b-wo-aem_*.py': _referring(True, 10, aem=False),
    'configs/gsva/llava-7b_*.py': _referring(True, 10, aem=False),
    'configs/lisa/llava-7b_*.py': _referring(False, 1, aem=False),
})
