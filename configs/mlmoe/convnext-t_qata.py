# MLMoE on QaTa-COV19 with text (paper: Dice 91.19 / IoU 83.81). 4 experts
# at every guide stage, learnable temperature, gate on text + visual.
# Paper recipe: AdamW, batch 32, lr 3e-3 (10x Ariadne's; as the paper states
# it, flagged in README), early stopping patience 20.
_base_ = [
    '../_base_/models/mlmoe_convnext-t.py', '../_base_/datasets/qata.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_guide_100e.py'
]
optim_wrapper = dict(optimizer=dict(lr=3e-3))
log_processor = dict(by_epoch=True)
