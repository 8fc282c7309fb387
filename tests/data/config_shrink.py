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
