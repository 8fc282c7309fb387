# BCSS-Ref evaluated at 40x only (training uses both magnifications, as the
# paper reports 20x / 40x / overall columns of one model).
_base_ = ['./bcss_ref.py']
val_dataloader = dict(dataset=dict(magnifications=('40x', )))
test_dataloader = val_dataloader
