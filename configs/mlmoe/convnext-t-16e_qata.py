# Experts ablation: N = 16 text experts per guide stage (paper: QaTa Dice
# 90.88; N = 4 is convnext-t_qata.py, 91.19).
_base_ = ['./convnext-t_qata.py']
model = dict(decode_head=dict(text_projection=dict(num_experts=16)))
