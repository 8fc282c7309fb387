# Mono-modal baseline: mmseg's U-Net on MosMedData+ (MLMoE's table: Dice
# 67.34 / IoU 50.76). See unet-s5-d16_fcn_qata.py.
_base_ = [
    '../_base_/models/unet-s5-d16_fcn_binary.py',
    '../_base_/datasets/mosmed.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_guide_100e.py'
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
log_processor = dict(by_epoch=True)
