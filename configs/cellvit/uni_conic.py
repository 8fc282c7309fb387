# CellViT with a frozen UNI encoder on CoNIC (the CellVTA paper's
# "CellViT_UNI", Table 1 and "Frozen" in Table 5), CoNIC 40x protocol and
# schedule as cellvta/uni_conic.py.
_base_ = [
    '../_base_/models/cellvit_uni.py', '../_base_/datasets/conic_40x.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_cellvta_100e.py'
]
model = dict(
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
