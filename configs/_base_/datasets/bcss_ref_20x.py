# BCSS-Ref evaluated at 20x only (training uses both magnifications, as the
# paper reports 20x / 40x / overall columns of one model).
_base_ = ['./bcss_ref.py']
val_dataloader = dict(dataset=dict(magnifications=('20x', )))
test_dataloader = val_dataloader
