# SyncSAM / sam-unet: Adam (no weight decay) lr 1e-4, halved after epochs 5
# and 10, 12 epochs; test once at the end (the test split is 20% of
# SA-Med2D). One optimiser step per batch.
optimizer = dict(type='Adam', lr=1e-4, weight_decay=0.)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
max_epochs = 12
param_scheduler = [
    dict(
        type='MultiStepLR',
        milestones=[5, 10],
        gamma=0.5,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Draws nothing unless tools/test.py --show / --show-dir turns it on;
    # mmseg's hook plus test runs that do not load the training split.
    visualization=dict(type='NpySegVisualizationHook'))
# A box-prompted batch leaves the point embeddings (and a point batch the
# box corners) without gradient: DDP must allow unused parameters (the
# reference runs DDP with find_unused_parameters=True too).
find_unused_parameters = True
