# PanNuke split 3 of CellViT and CellVTA (0-based folds): train 2, val 1,
# test 0. Everything else as in pannuke_split1.py.
_base_ = './pannuke_split1.py'
train_dataloader = dict(dataset=dict(folds=[2]))
val_dataloader = dict(dataset=dict(folds=[1]))
test_dataloader = dict(dataset=dict(folds=[0]))
