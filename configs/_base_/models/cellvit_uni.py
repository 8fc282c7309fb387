# CellViT with UNI (timm ViT-L/16) as the encoder, the CellVTA paper's
# "CellViT_UNI" baseline: four block outputs (blocks 6, 12, 18, 24) feed
# CellViT's deconvolution skips; tissue head on the final-normed class token.
# Frozen encoder (the CellVTA paper's setting; `-full` configs unfreeze it).
_base_ = ['./cellvit_decoder.py']
model = dict(
    backbone=dict(
        type='UNIViT',
        arch='large',
        img_size=224,
        patch_size=16,
        init_values=1e-5,
        out_indices=(5, 11, 17, 23),
        # CellViT's YAML values for its own ViT encoders (the CellVTA paper
        # bases the baselines on CellViT's configuration).
        drop_path_rate=0.1,
        attn_drop_rate=0.1,
        norm_cls_token=True,
        # CellViT's freeze_encoder: every encoder parameter, final norm too.
        frozen=True,
        frozen_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint='data/pretrained/uni_vit-l16.pth')),
    decode_head=dict(in_channels=1024, skip_mode='deconv'))
