# Ablation "w/o f_v": the gate sees the pooled text only, not the visual
# tokens.
_base_ = ['./convnext-t_qata.py']
model = dict(decode_head=dict(text_projection=dict(use_visual=False)))
