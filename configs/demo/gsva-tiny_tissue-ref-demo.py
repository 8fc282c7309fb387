# Tiny random GSVA on the generated tissue referring demo, CPU, minutes:
#   python tools/misc/generate_tissue_ref_demo_data.py --num-train 256 \
#       --num-val 64 --out data/tissue_ref_demo_256
#   python tools/train.py configs/demo/gsva-tiny_tissue-ref-demo.py
#   python tools/test.py configs/demo/gsva-tiny_tissue-ref-demo.py CKPT \
#       --cfg-options model.test_cfg.mode=generate
_base_ = [
    '../_base_/models/gsva-tiny_llava-rand_sam-tiny.py',
    '../_base_/datasets/tissue_ref_demo.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_referring_demo.py'
]
model = dict(mllm=dict(tokenizer={{_base_.tokenizer}}))
data_root = 'data/tissue_ref_demo_256'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
