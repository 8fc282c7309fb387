# Text helps: a tiny MLMoE (1-block-per-stage ConvNeXt, 2-layer random frozen
# BERT with the demo's own tokenizer, 4 text experts per guide stage) learns
# to segment the infections of the synthetic X-rays in data/xray_demo, on a
# CPU in a few minutes. Twins on the same seed and schedule:
#   mlmoe-tiny_xray-demo_no-text.py         same network, never sees text
#   mlmoe-tiny_xray-demo_virtual-prompt.py  stage 2: prompt + adapters
#                                           distilled from this model
# Results: configs/mlmoe/README.md ("Demo").
_base_ = [
    '../_base_/datasets/xray_demo.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_demo.py'
]
text_dims = 64
model = dict(
    type='TextGuidedSegmentor',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[127.5] * 3,
        std=[127.5] * 3,
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=(64, 64)),
    backbone=dict(
        type='mmpretrain.ConvNeXt',
        arch=dict(depths=[1, 1, 1, 1], channels=[16, 32, 64, 128]),
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False),
    text_encoder=dict(
        type='BertTextEncoder',
        tokenizer='data/xray_demo/tokenizer',
        # A random BERT: frozen, it still maps every word to its own
        # features; the decoder learns what they mean.
        bert_config=dict(
            vocab_size=64,
            hidden_size=text_dims,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=128,
            max_position_embeddings=64),
        max_length=24),
    decode_head=dict(
        type='GuideDecoderHead',
        in_channels=(16, 32, 64, 128),
        text_channels=text_dims,
        text_len=24,
        stage_text_lens=(24, 12, 9),
        text_projection=dict(type='TextMoE', num_experts=4),
        head_channels=8,
        loss_decode=[
            dict(type='SoftDiceLoss', loss_name='loss_dice'),
            dict(
                type='mmseg.CrossEntropyLoss',
                use_sigmoid=True,
                avg_non_ignore=True,
                loss_name='loss_ce'),
        ],
        loss_diversity=dict(type='GateDiversityLoss', loss_weight=1.0)),
    train_cfg=dict(text_mode='text'),
    test_cfg=dict(text_mode='text'))
max_iters = 600
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=200, max_keep_ckpts=1),
    visualization=dict(type='NpySegVisualizationHook', draw=False))
randomness = dict(seed=0)
