# LISA/GSVA/LTSE training on GPUs with DeepSpeed (FlexibleRunner): AdamW
# lr 3e-4, betas (0.9, 0.95), no weight decay; WarmupDecayLR over 5,000
# optimizer steps (10 "epochs" x 500) with 100 warm-up steps; batch 2 per
# device x gradient accumulation 10; ZeRO-2, bf16, gradient clipping 1.0.
# Each runner iteration is one micro-batch, so 50,000 iterations = 5,000
# optimizer steps; DeepSpeed steps its own scheduler at accumulation
# boundaries, hence no mmengine `param_scheduler`.
runner_type = 'FlexibleRunner'
strategy = dict(
    type='DeepSpeedStrategy',
    gradient_accumulation_steps=10,
    gradient_clipping=1.0,
    bf16=dict(enabled=True),
    zero_optimization=dict(
        stage=2,
        contiguous_gradients=True,
        overlap_comm=True,
        reduce_scatter=True,
        reduce_bucket_size=5e8,
        allgather_bucket_size=5e8),
    config=dict(
        scheduler=dict(
            type='WarmupDecayLR',
            params=dict(
                total_num_steps=5000,
                warmup_min_lr=0,
                warmup_max_lr=3e-4,
                warmup_num_steps=100,
                warmup_type='linear'))),
    exclude_frozen_parameters=True)
optim_wrapper = dict(
    type='DeepSpeedOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=3e-4, betas=(0.9, 0.95), weight_decay=0.0))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=50000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=5000,
        max_keep_ckpts=2,
        save_best='referring/gIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Draws nothing unless tools/test.py --show / --show-dir turns it on;
    # mmseg's hook plus test runs that do not load the training split.
    visualization=dict(type='NpySegVisualizationHook'))
