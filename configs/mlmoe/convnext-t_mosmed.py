# MLMoE on MosMedData+ with text (paper: Dice 77.98 / IoU 63.90). Paper
# recipe: batch 24, lr 8e-3.
_base_ = [
    '../_base_/models/mlmoe_convnext-t.py', '../_base_/datasets/mosmed.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_guide_100e.py'
]
optim_wrapper = dict(optimizer=dict(lr=8e-3))
log_processor = dict(by_epoch=True)
