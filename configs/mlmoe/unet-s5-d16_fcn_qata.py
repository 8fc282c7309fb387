# Mono-modal baseline: mmseg's U-Net on the same QaTa-COV19 data, no text
# (MLMoE's table: U-Net Dice 83.52 / IoU 71.71). Same split, size, schedule
# and metric as the text-guided models; lr 1e-3 (mmseg's medical projects
# sweep 1e-2 / 1e-3 / 1e-4 with SGD; AdamW 1e-3 here).
_base_ = [
    '../_base_/models/unet-s5-d16_fcn_binary.py', '../_base_/datasets/qata.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_guide_100e.py'
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
log_processor = dict(by_epoch=True)
