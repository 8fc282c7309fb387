# CellViT-SAM-L on PanNuke split 2 (0-based folds: train 1, val 0,
# test 2), CellViT's recipe (see sam-h_pannuke-fold1.py).
_base_ = ['./sam-l_pannuke-fold1.py']
train_dataloader = dict(dataset=dict(folds=[1]))
val_dataloader = dict(dataset=dict(folds=[0]))
test_dataloader = dict(dataset=dict(folds=[2]))
