# A tiny mmseg model on a tiny folder dataset, for tests of the tools.
# Set `data_root` of the three dataloaders to a folder made by
# `tests/data/tiny_seg_dataset.py` (see tests/test_tools/test_dist_train.py).
_base_ = ['../../../configs/_base_/default_runtime.py']

data_root = 'data/tiny_seg'
crop_size = (32, 32)
# Full-size configs use SyncBN; on CPU it is reverted to BN by the runner
# (one process) or by MMCPUDistributedDataParallel (several processes).
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[128.0, 128.0, 128.0],
        std=[64.0, 64.0, 64.0],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    backbone=dict(
        type='UNet',
        in_channels=3,
        base_channels=8,
        num_stages=2,
        strides=(1, 1),
        enc_num_convs=(1, 1),
        dec_num_convs=(1, ),
        downsamples=(True, ),
        enc_dilations=(1, 1),
        dec_dilations=(1, ),
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='FCNHead',
        in_channels=8,
        in_index=-1,
        channels=8,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.0,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

tiny_dataset = dict(
    type='BaseSegDataset',
    data_root=data_root,
    metainfo=dict(
        classes=('background', 'nucleus'), palette=[[0, 0, 0], [255, 0, 0]]),
    img_suffix='.png',
    seg_map_suffix='.png')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
test_pipeline = train_pipeline
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        **tiny_dataset,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **tiny_dataset,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
