# The quick-start demo (`bash tools/run_demo.sh`): a small UNet learns
# 6-class semantic segmentation (background + the 5 PanNuke nucleus types) of
# the synthetic H&E tiles in data/pannuke_demo, on a CPU in a few minutes.
# Until the tiny CellVTA lands, this config proves the tools end to end.
_base_ = [
    '../_base_/models/unet-tiny_fcn.py', '../_base_/datasets/pannuke_demo.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_demo.py'
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(
        num_classes=6,
        loss_decode=[
            dict(
                type='CrossEntropyLoss',
                use_sigmoid=False,
                loss_weight=1.0,
                loss_name='loss_ce'),
            # mmseg's DiceLoss drops the channel numbered `ignore_index`
            # and pools the other classes: this is a Dice over nuclei.
            dict(
                type='DiceLoss',
                use_sigmoid=False,
                ignore_index=0,
                loss_weight=1.0,
                loss_name='loss_dice'),
        ]))

max_iters = 600
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=200, max_keep_ckpts=2),
    # `tools/test.py --show-dir DIR` turns drawing on: every 4th test tile,
    # ground truth beside the prediction, in DIR/vis_data/vis_image/.
    visualization=dict(type='NpySegVisualizationHook', interval=4))
randomness = dict(seed=0)
