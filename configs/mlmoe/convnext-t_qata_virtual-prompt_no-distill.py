# Text-absent ablation "w/o distillation" (paper: QaTa Dice 87.33): prompt
# and adapters train on the segmentation loss alone.
_base_ = ['./convnext-t_qata_virtual-prompt.py']
model = dict(distill_loss=None)
