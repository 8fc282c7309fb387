# Tiny random LISA on the generated tissue referring demo (one target per
# conversation, no [REJ]), CPU, minutes.
_base_ = [
    '../_base_/models/gsva-tiny_llava-rand_sam-tiny.py',
    '../_base_/datasets/tissue_ref_demo_lisa.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_demo.py'
]
# LoRA only on the random LLM: LISA has no [REJ] decision to learn, and with
# the whole LLM trained its masks collapsed to empty (gIoU 0 at every
# validation of 1,000 iterations; configs/lisa/README.md).
model = dict(
    mllm=dict(tokenizer={{_base_.tokenizer}}, train_language_model=False))
data_root = 'data/tissue_ref_demo_256'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
