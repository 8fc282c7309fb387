# Tiny random LTSE on the generated tissue referring demo, CPU, minutes:
#   python tools/misc/generate_tissue_ref_demo_data.py
#   python tools/misc/generate_tissue_ref_demo_data.py --num-train 256 \
#       --out data/tissue_ref_demo_256
#   python tools/train.py configs/demo/ltse-tiny_tissue-ref-demo.py
#   python tools/test.py configs/demo/ltse-tiny_tissue-ref-demo.py CKPT \
#       --cfg-options model.test_cfg.mode=generate
# Trains on 256 generated tiles (the first 64 are the default demo's, the
# validation split is the same 16 tiles): with 64 tiles the [SEG]/[REJ]
# decision overfits and N-Acc falls late in training (configs/ltse/README.md).
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
