# LISA (Lai et al., CVPR 2024) on LLaVA-7B-v1-1 + SAM ViT-H: one [SEG] per
# conversation, no [REJ], one SAM mask decoder. The model is GSVA's; the
# difference is the tokenizer and the data (configs/_base_/datasets/
# bcss_ref_lisa.py: one conversation per target, absent targets answered
# with [SEG] and an all-zero mask, since LISA cannot reject).
_base_ = ['./gsva_llava-7b_sam-h.py']
