_base_ = [
    '../_base_/models/cellvta_uni.py',
    '../_base_/datasets/pannuke_demo_instance.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_demo.py'
]
model = dict(
    backbone=dict(
        vit=dict(arch='tiny', img_size=128, drop_path_rate=0., init_cfg=None),
        conv_inplane=16,
        deform_num_heads=4,
        interaction_indexes=[[0, 0], [1, 1], [2, 2], [3, 3]],
        drop_path_rate=0.,
        freeze_vit=False),
    decode_head=dict(
        in_channels=64,
        bottleneck_channels=64,
        decoder_channels=(16, 32, 64)))
max_iters = 600
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters,
         by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
    visualization=dict(type='NpySegVisualizationHook', interval=4))
randomness = dict(seed=0)
