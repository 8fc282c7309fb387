# SyncSAM-34 on SA-Med2D-20M (paper: 87.0 / 74.1 / 87.6): ResNet-34 branch.
_base_ = ['./rn50_samed2d.py']
model = dict(
    image_encoder=dict(
        cnn=dict(
            depth=34,
            init_cfg=dict(
                checkpoint='data/pretrained/resnet34_torchvision.pth')),
        cnn_channels=(64, 128, 256, 512)))
