# LTSE on BCSS-Ref (both magnifications; the metric also reports 20x/... and
# 40x/... groups). LLaVA-7B-v1-1 + LoRA, SAM ViT-H, AEM n=4 k=2, M=10.
# 4 GPUs x batch 2 x accumulation 10, DeepSpeed ZeRO-2 bf16:
#   bash tools/dist_train.sh configs/ltse/llava-7b_bcss-ref.py 4
_base_ = [
    '../_base_/models/ltse_llava-7b_sam-h.py',
    '../_base_/datasets/bcss_ref.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_deepspeed.py'
]
model = dict(mllm=dict(tokenizer={{_base_.tokenizer}}))
