# PanNuke split 2 of CellViT and CellVTA (0-based folds): train 1, val 0,
# test 2. Everything else as in pannuke_split1.py.
_base_ = './pannuke_split1.py'
train_dataloader = dict(dataset=dict(folds=[1]))
val_dataloader = dict(dataset=dict(folds=[0]))
test_dataloader = dict(dataset=dict(folds=[2]))
