# Stage 2 of the demo: load the text-trained demo model and train only the
# virtual prompt and the adapters (distillation from the same model reading
# the reports); tested without text.
_base_ = ['./mlmoe-tiny_xray-demo.py']
load_from = 'work_dirs/mlmoe-tiny_xray-demo/iter_600.pth'
model = dict(
    virtual_prompt=dict(type='VirtualPrompt', length=24, embed_dims=64),
    decode_head=dict(adapter=dict(type='BottleneckAdapter', ratio=0.25)),
    distill_loss=dict(type='FeatureDistillLoss', loss_weight=1.0),
    trainable=('virtual_prompt', 'decode_head.adapters'),
    train_cfg=dict(text_mode='virtual', with_diversity=False),
    test_cfg=dict(text_mode='virtual'))
max_iters = 300
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(checkpoint=dict(interval=100))
