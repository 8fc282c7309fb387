# LTSE trained on both magnifications of BCSS-Ref, evaluated at 40x.
_base_ = [
    '../_base_/models/ltse_llava-7b_sam-h.py',
    '../_base_/datasets/bcss_ref_40x.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_deepspeed.py'
]
model = dict(mllm=dict(tokenizer={{_base_.tokenizer}}))
