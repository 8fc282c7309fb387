# MLMoE without text at test time, stage 2 (paper: Dice 87.66 / IoU 78.04).
# Loads the text-trained model (stage 1, convnext-t_qata.py) and trains only
# the 24 x 768 virtual prompt and the bottleneck adapters after each guide
# stage: student (prompt + adapters) vs. frozen teacher (real report, no
# adapters), loss = Dice + CE of the student + L2 between the fused tokens
# of every guide stage. Everything else is frozen and kept in eval mode.
# Test: the prompt replaces the report (test_cfg.text_mode='virtual').
_base_ = ['./convnext-t_qata.py']
# The stage-1 best checkpoint (AtomicCheckpointHook names it
# best_Dice_epoch_<N>.pth): copy or link it here, or pass
# --cfg-options load_from=<path>.
load_from = 'work_dirs/convnext-t_qata/best_Dice.pth'
model = dict(
    # The encoder comes from `load_from`, not from ImageNet.
    backbone=dict(init_cfg=None),
    virtual_prompt=dict(type='VirtualPrompt', length=24, embed_dims=768),
    decode_head=dict(adapter=dict(type='BottleneckAdapter', ratio=0.25)),
    distill_loss=dict(type='FeatureDistillLoss', loss_weight=1.0),
    trainable=('virtual_prompt', 'decode_head.adapters'),
    train_cfg=dict(text_mode='virtual', with_diversity=False),
    test_cfg=dict(text_mode='virtual'))
