# MLMoE on MosMedData+ without text at test time, stage 2 (paper: Dice
# 76.98 / IoU 62.57). See convnext-t_qata_virtual-prompt.py.
_base_ = ['./convnext-t_mosmed.py']
load_from = 'work_dirs/convnext-t_mosmed/best_Dice.pth'
model = dict(
    backbone=dict(init_cfg=None),
    virtual_prompt=dict(type='VirtualPrompt', length=24, embed_dims=768),
    decode_head=dict(adapter=dict(type='BottleneckAdapter', ratio=0.25)),
    distill_loss=dict(type='FeatureDistillLoss', loss_weight=1.0),
    trainable=('virtual_prompt', 'decode_head.adapters'),
    train_cfg=dict(text_mode='virtual', with_diversity=False),
    test_cfg=dict(text_mode='virtual'))
