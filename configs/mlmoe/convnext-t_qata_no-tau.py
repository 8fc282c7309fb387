# Ablation "w/o tau": the gate temperature is fixed at 1 (plain softmax).
_base_ = ['./convnext-t_qata.py']
model = dict(
    decode_head=dict(
        text_projection=dict(learnable_temperature=False,
                             init_temperature=1.0)))
