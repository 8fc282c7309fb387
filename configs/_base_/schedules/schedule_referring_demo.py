# CPU demo schedule for the tiny referring models: AdamW as LISA (betas
# 0.9/0.95, no weight decay) with a linear warm-up and linear decay.
max_iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.95),
                   weight_decay=0.0),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=30),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.01, by_epoch=False,
         begin=30, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=250)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=250,
        max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Draws nothing unless tools/test.py --show / --show-dir turns it on;
    # mmseg's hook plus test runs that do not load the training split.
    visualization=dict(type='NpySegVisualizationHook'))
