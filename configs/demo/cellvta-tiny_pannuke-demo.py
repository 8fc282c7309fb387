# The quick-start demo of the nuclei family: CellVTA at a tiny size learns
# nuclei instance segmentation and classification (5 PanNuke types) of the
# synthetic H&E tiles in data/pannuke_demo, on a 2-core CPU in minutes.
# Everything of CellVTA is there: a UNI-layout ViT, the CNN adapter with
# multi-scale deformable attention, CellViT's decoder with plain-convolution
# skips and NP / HV / NC branches plus the tissue head, CellViT's losses and
# weights, and HoVer-Net's watershed post-processing (40x preset); only the
# widths, the depth and the schedule are small. Train fold 0, validate on
# fold 1 once at the end, test on fold 2.
_base_ = [
    '../_base_/models/cellvta_uni.py',
    '../_base_/datasets/pannuke_demo_instance.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_demo.py'
]
model = dict(
    backbone=dict(
        vit=dict(
            arch='tiny',  # embed 64, 4 blocks, 4 heads, MLP ratio 4
            # Position table of the 128 px training crops (8 x 8); resampled
            # to the 16 x 16 grid of the 256 px test tiles.
            img_size=128,
            # No stochastic depth: 4 blocks trained for a few hundred steps.
            drop_path_rate=0.,
            # Trained from scratch: no UNI weights (and no download).
            init_cfg=None),
        conv_inplane=16,
        deform_num_heads=4,  # 4 heads of 8 channels (64 x deform_ratio 0.5)
        # One ViT block per interaction stage.
        interaction_indexes=[[0, 0], [1, 1], [2, 2], [3, 3]],
        drop_path_rate=0.,
        # CellVTA freezes its pretrained UNI; a randomly initialised ViT
        # has to learn, so the trunk trains here.
        freeze_vit=False),
    decode_head=dict(
        in_channels=64,
        # Reference: bottleneck 512 (312 below 512 channels), widths (64,
        # 128, 256) at full, 1/2 and 1/4 resolution. A full-resolution width
        # of 8 learned the nucleus types too slowly; 16 does.
        bottleneck_channels=32,
        decoder_channels=(16, 32, 32)))

# 300 steps of 4 random 128 px crops (~38 passes over the 32 training
# tiles); the nucleus types are learned in the last third.
max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_dataloader = dict(batch_size=4)
# Validation (per-image bPQ, mPQ, ...) only after the last iteration.
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
    # `tools/test.py --show-dir DIR` turns drawing on: every 4th test tile,
    # ground truth beside the prediction (the nucleus type of every
    # predicted instance), in DIR/vis_data/vis_image/.
    visualization=dict(type='NpySegVisualizationHook', interval=4))
randomness = dict(seed=0)
