# CellViT-SAM-L on PanNuke split 1, CellViT's recipe (see
# sam-h_pannuke-fold1.py).
_base_ = ['./sam-h_pannuke-fold1.py']
model = dict(
    backbone=dict(
        arch='vit-l',
        init_cfg=dict(checkpoint='data/pretrained/sam_vit-l_encoder.pth')),
    decode_head=dict(in_channels=1024))
