# LTSE "w/o AEM" (paper Table 2): M [SEG] tokens and [REJ] with a single SAM
# mask decoder, i.e. the GSVA layout trained with LTSE's recipe.
_base_ = [
    '../_base_/models/gsva_llava-7b_sam-h.py',
    '../_base_/datasets/bcss_ref.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_deepspeed.py'
]
model = dict(mllm=dict(tokenizer={{_base_.tokenizer}}))
