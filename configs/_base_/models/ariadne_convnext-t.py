# Ariadne's Thread (Zhong et al., MICCAI 2023): ConvNeXt-T image encoder,
# frozen CXR-BERT text encoder (last layer, 24 tokens), three guide stages
# (self-attention, cross-attention to projected text), subpixel x4 and a
# one-channel head.
#
# Image encoder: mmpretrain's ConvNeXt (out_indices 0-3). mmpretrain adds a
# LayerNorm on every output stage (norm0..norm3), which the reference's HF
# ConvNeXt does not; the in1k checkpoint holds only the final norm, so
# norm0..2 start at identity (weight 1, bias 0) and train with the encoder.
# mmpretrain is used because it is an OpenMMLab registry citizen
# (`mmpretrain.ConvNeXt` by scope prefix, `Pretrained` init with a prefix)
# and needs no extra dependency; it needs transformers < 5, pinned to 4.51.3.
#
# Weights (local files, nothing is downloaded at run time):
#   data/pretrained/convnext-tiny_in1k.pth   mmpretrain's
#       convnext-tiny_32xb128_in1k checkpoint (the FB in1k weights)
#   data/pretrained/cxr-bert-specialized/    microsoft/BiomedVLP-CXR-BERT-
#       specialized (config.json, pytorch_model.bin, vocab.txt, ...)
convnext_checkpoint = 'data/pretrained/convnext-tiny_in1k.pth'
text_model = 'data/pretrained/cxr-bert-specialized'
data_preprocessor = dict(
    type='SegDataPreProcessor',
    # ImageNet statistics for the pretrained encoder; Ariadne z-scores each
    # image instead (MONAI NormalizeIntensity), a difference we accept.
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(224, 224))
model = dict(
    type='TextGuidedSegmentor',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False,
        drop_path_rate=0.0,
        init_cfg=dict(
            type='Pretrained',
            checkpoint=convnext_checkpoint,
            prefix='backbone.')),
    text_encoder=dict(
        type='BertTextEncoder',
        pretrained=text_model,
        max_length=24,
        frozen=True,
        keep_dropout=False),
    decode_head=dict(
        type='GuideDecoderHead',
        in_channels=(96, 192, 384, 768),
        text_channels=768,
        text_len=24,
        stage_text_lens=(24, 12, 9),
        text_projection=dict(type='GuideTextProjection'),
        sa_heads=1,
        ca_heads=4,
        alpha_init=1.421,
        head_channels=24,
        upsample_scale=4,
        norm_cfg=dict(type='BN'),
        # What Ariadne trains with: MONAI DiceCELoss on one sigmoid channel,
        # whose CE term is 0 under MONAI 1.0.1 -> soft Dice only.
        loss_decode=[dict(type='SoftDiceLoss', loss_name='loss_dice')]),
    train_cfg=dict(text_mode='text'),
    test_cfg=dict(text_mode='text', threshold=0.5))
