# CellViT-SAM: the SAM image encoder (ViT-H here; ViT-B/L configs override
# `arch`, the checkpoint and the decoder width) with the position embedding
# cropped to the input grid, four block outputs (SAM-H blocks 8, 16, 24, 32)
# into CellViT's deconvolution skips, and the tissue head on the spatial mean
# of SAM's 256-channel neck. Encoder frozen; BackboneUnfreezeHook lifts that
# (CellViT: from epoch 25).
_base_ = ['./cellvit_decoder.py']
model = dict(
    backbone=dict(
        type='SAMViT',
        arch='vit-h',
        img_size=1024,
        patch_size=16,
        window_size=14,
        out_channels=256,
        with_neck=True,
        pos_embed_mode='crop',
        frozen=True,
        frozen_eval=False,
        # `tools/model_converters/sam2mmpathseg.py` writes this file from
        # sam_vit_h_4b8939.pth.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='data/pretrained/sam_vit-h_encoder.pth')),
    decode_head=dict(
        in_channels=1280, skip_mode='deconv', tissue_in_channels=256))
