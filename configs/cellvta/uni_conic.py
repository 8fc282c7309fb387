# CellVTA (UNI ViT-L/16 + adapter) on CoNIC with the paper's 40x protocol:
# training on 2 x 2 crops of 256 px cut from 20x tiles upscaled to 480 px;
# testing upscales each 20x tile by 1.875, predicts the 4 crops with the 40x
# post-processing, merges their instances and scores them at 20x.
# 50 epochs, validation every 5; CoNIC has no tissue labels.
_base_ = [
    '../_base_/models/cellvta_uni.py', '../_base_/datasets/conic_40x.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_cellvta_100e.py'
]
model = dict(
    # 6 nucleus types + background; no tissue head (the reference builds a
    # 1-class tissue Linear without a loss: 1,025 parameters we leave out).
    decode_head=dict(
        branches=dict(nc=dict(out_channels=7)), num_tissue_classes=0),
    test_cfg=dict(
        mode='slide',
        crop_size=(256, 256),
        stride=(224, 224),
        scale_factor=1.875,
        tile_merge='instances'))
max_epochs = 50
param_scheduler = [
    dict(
        type='ExponentialLR',
        gamma=0.95,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
log_processor = dict(by_epoch=True)
