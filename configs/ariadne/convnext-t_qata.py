# Ariadne's Thread on QaTa-COV19 (paper: Dice 89.78 / IoU 81.45 on the test
# set; MLMoE's table reports 90.24 / 82.66 for it). Reference recipe: AdamW
# lr 3e-4, batch 32, 224 x 224, 100 epochs, cosine T_max 200.
_base_ = [
    '../_base_/models/ariadne_convnext-t.py', '../_base_/datasets/qata.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_guide_100e.py'
]
log_processor = dict(by_epoch=True)
