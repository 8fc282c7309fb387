# Ariadne's Thread / MLMoE optimisation: AdamW over the trainable parameters,
# cosine decay with T_max = 200 epochs stepped per epoch over a 100-epoch run
# (so the rate only falls to about half), validation every epoch, the best
# checkpoint by validation Dice, early stopping after 20 epochs without gain.
# (Ariadne monitors the validation loss; validation here computes metrics
# only, so Dice is monitored.) Method configs also set
# `log_processor = dict(by_epoch=True)` (default_runtime.py logs by iteration).
optimizer = dict(type='AdamW', lr=3e-4, weight_decay=0.01)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
max_epochs = 100
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=200,
        eta_min=1e-6,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
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
        max_keep_ckpts=1,
        save_best='Dice',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='NpySegVisualizationHook'))
custom_hooks = [
    dict(type='EarlyStoppingHook', monitor='Dice', rule='greater',
         patience=20, min_delta=0.0)
]
randomness = dict(seed=0)
