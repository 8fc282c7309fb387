# Ariadne's Thread on MosMedData+ (MLMoE's table: Dice 76.52 / IoU 61.97).
# Same recipe as QaTa with MosMed's batch 24.
_base_ = [
    '../_base_/models/ariadne_convnext-t.py', '../_base_/datasets/mosmed.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_guide_100e.py'
]
log_processor = dict(by_epoch=True)
