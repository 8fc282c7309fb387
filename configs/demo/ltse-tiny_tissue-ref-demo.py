# Tiny random LTSE on the generated tissue referring demo, CPU, minutes:
#   python tools/misc/generate_tissue_ref_demo_data.py --num-train 256 \
#       --num-val 64 --out data/tissue_ref_demo_256
#   python tools/train.py configs/demo/ltse-tiny_tissue-ref-demo.py
#   python tools/test.py configs/demo/ltse-tiny_tissue-ref-demo.py CKPT \
#       --cfg-options model.test_cfg.mode=generate
#   python tools/analysis_tools/referring_slot_decisions.py \
#       configs/demo/ltse-tiny_tissue-ref-demo.py --checkpoint CKPT
# 256 training tiles; 64 validation tiles (128 absent targets, enough to
# measure rejection; the first 16 are the default demo's). Final
# checkpoint: gIoU 50.9, cIoU 43.0, N-Acc 74.2, T-Acc 92.6 (teacher-forced),
# the decisions read the image (configs/ltse/README.md).
_base_ = [
    '../_base_/models/ltse-tiny_llava-rand_sam-tiny.py',
    '../_base_/datasets/tissue_ref_demo.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_demo.py'
]
model = dict(mllm=dict(tokenizer={{_base_.tokenizer}}))
data_root = 'data/tissue_ref_demo_256'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(val_interval=125)
# gIoU scores a rejected absent target 1, so it rewards masks and rejection.
default_hooks = dict(
    checkpoint=dict(
        interval=125, save_best='referring/gIoU', rule='greater'))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
