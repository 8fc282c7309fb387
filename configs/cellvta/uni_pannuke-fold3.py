# CellVTA (UNI ViT-L/16 + adapter) on PanNuke split 3: ViT frozen
# throughout, adapter + decoder trained 100 epochs with AdamW (3e-4) and
# exponential decay, batch 8, best checkpoint by validation bPQ.
_base_ = [
    '../_base_/models/cellvta_uni.py',
    '../_base_/datasets/pannuke_split3.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_cellvta_100e.py'
]
log_processor = dict(by_epoch=True)
