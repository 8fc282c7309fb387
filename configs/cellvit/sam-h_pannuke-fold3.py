# CellViT-SAM-H on PanNuke split 3 (0-based folds: train 2, val 1,
# test 0), CellViT's recipe (see sam-h_pannuke-fold1.py).
_base_ = ['./sam-h_pannuke-fold1.py']
train_dataloader = dict(dataset=dict(folds=[2]))
val_dataloader = dict(dataset=dict(folds=[1]))
test_dataloader = dict(dataset=dict(folds=[0]))
