# SyncSAM-50 trained on IMed-361M (paper Table 3: 89.6 / 87.3 / 89.7) with
# its official split; same model and schedule as on SA-Med2D.
_base_ = [
    '../_base_/models/syncsam_rn50.py', '../_base_/datasets/imed361m.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_promptable_12e.py'
]
log_processor = dict(by_epoch=True)
