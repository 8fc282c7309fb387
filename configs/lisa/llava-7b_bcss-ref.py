# LISA on BCSS-Ref: one [SEG] per conversation (one conversation per
# target), no [REJ], one SAM ViT-H mask decoder. N-Acc is 0 by construction
# (the paper's "-"); ReferringMetric(empty_mask_is_rejection=True) scores an
# all-background mask on an absent target as a rejection instead.
_base_ = [
    '../_base_/models/lisa_llava-7b_sam-h.py',
    '../_base_/datasets/bcss_ref_lisa.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_deepspeed.py'
]
model = dict(mllm=dict(tokenizer={{_base_.tokenizer}}))
