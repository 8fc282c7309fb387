# Text-absent ablation "w/o adapter" (paper: QaTa Dice 86.96): only the
# virtual prompt trains.
_base_ = ['./convnext-t_qata_virtual-prompt.py']
model = dict(
    decode_head=dict(adapter=None), trainable=('virtual_prompt', ))
