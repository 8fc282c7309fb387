# SyncSAM-50 on SA-Med2D-20M (paper Table 2: 88.2 / 74.8 / 88.5 DSC for box /
# 1 point / 5 points): frozen SAM ViT-B + ResNet-50 at 256 px, 12 epochs,
# Adam lr 1e-4, 5 masks per image, 20 x Dice + focal, interactive
# simulation. 8 GPUs x 50 images.
_base_ = [
    '../_base_/models/syncsam_rn50.py', '../_base_/datasets/samed2d.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_promptable_12e.py'
]
log_processor = dict(by_epoch=True)
