# LTSE (Tang et al., MICCAI 2025): GSVA's tokens ([SEG] x M = 10, [REJ]) with
# the Adaptive Expert Mixture of n = 4 SAM mask decoders, top k = 2.
_base_ = ['./gsva_llava-7b_sam-h.py']
model = dict(
    mask_decoder=dict(
        _delete_=True,
        type='AdaptiveExpertMixture',
        num_experts=4,
        expert=dict(
            type='SAMExpertDecoder',
            transformer_dim=256,
            depth=2,
            mlp_dim=2048,
            num_heads=8,
            num_multimask_outputs=3,
            iou_head_depth=3,
            iou_head_hidden_dim=256),
        gate=dict(type='AEMGate', top_k=2, num_heads=8, mlp_ratio=4),
        mix='logits'))
