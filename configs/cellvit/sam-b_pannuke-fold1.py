# CellViT-SAM-B on PanNuke split 1, CellViT's recipe (see
# sam-h_pannuke-fold1.py).
_base_ = ['./sam-h_pannuke-fold1.py']
model = dict(
    backbone=dict(
        arch='vit-b',
        init_cfg=dict(checkpoint='data/pretrained/sam_vit-b_encoder.pth')),
    decode_head=dict(in_channels=768))
