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
