# CellViT with a frozen UNI encoder ("CellViT_UNI" of the CellVTA paper) on
# PanNuke split 2, trained as CellVTA: 100 epochs, batch 8, CellVTA's
# augmentations, best checkpoint by validation bPQ.
_base_ = [
    '../_base_/models/cellvit_uni.py',
    '../_base_/datasets/pannuke_split2.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_cellvta_100e.py'
]
log_processor = dict(by_epoch=True)
