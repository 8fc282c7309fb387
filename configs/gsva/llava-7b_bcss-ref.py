# GSVA on BCSS-Ref: one [SEG] token reused for up to M=10 targets, [REJ],
# one SAM ViT-H mask decoder; LISA/GSVA recipe under DeepSpeed.
_base_ = [
    '../_base_/models/gsva_llava-7b_sam-h.py',
    '../_base_/datasets/bcss_ref.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_deepspeed.py'
]
model = dict(mllm=dict(tokenizer={{_base_.tokenizer}}))
