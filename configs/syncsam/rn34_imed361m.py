# SyncSAM-34 on IMed-361M (paper: 88.2 / 86.9 / 89.1).
_base_ = ['./rn50_imed361m.py']
model = dict(
    image_encoder=dict(
        cnn=dict(
            depth=34,
            init_cfg=dict(
                checkpoint='data/pretrained/resnet34_torchvision.pth')),
        cnn_channels=(64, 128, 256, 512)))
