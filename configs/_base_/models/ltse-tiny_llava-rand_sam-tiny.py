# The tiny random GSVA with LTSE's Adaptive Expert Mixture (n = 4, k = 2).
_base_ = ['./gsva-tiny_llava-rand_sam-tiny.py']
model = dict(
    mask_decoder=dict(
        _delete_=True,
        type='AdaptiveExpertMixture',
        num_experts=4,
        expert=dict(
            type='SAMExpertDecoder',
            transformer_dim=64,
            depth=2,
            mlp_dim=64,
            num_heads=2,
            iou_head_hidden_dim=64),
        gate=dict(type='AEMGate', top_k=2, num_heads=2, mlp_ratio=2)))
