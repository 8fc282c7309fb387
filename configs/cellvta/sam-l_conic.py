# CellVTA with SAM ViT-L instead of UNI (the paper's ablation, Table 5): the
# same adapter and decoder on a frozen SAM image encoder, CoNIC 40x protocol.
_base_ = ['./uni_conic.py']
model = dict(
    backbone=dict(
        vit=dict(
            _delete_=True,
            type='SAMViT',
            arch='vit-l',
            img_size=1024,
            patch_size=16,
            window_size=14,
            out_channels=256,
            with_neck=True,
            pos_embed_mode='crop',
            init_cfg=dict(
                type='Pretrained',
                checkpoint='data/pretrained/sam_vit-l_encoder.pth'))),
    decode_head=dict(in_channels=1024))
