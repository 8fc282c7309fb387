# CellViT-SAM-H on PanNuke split 1 as trained in the CellViT paper
# (logs_paper/PanNuke/CellViTHV/SAM-H/Fold-1/config.yaml): batch 16,
# 130 epochs, encoder frozen for epochs 0-24 and fine-tuned from epoch 25,
# mixed precision, CellViT's augmentation probabilities. CellViT reports the
# last checkpoint (eval_checkpoint: latest_checkpoint.pth); the best-bPQ one
# is kept as well.
_base_ = [
    '../_base_/models/cellvit_sam.py',
    '../_base_/datasets/pannuke_split1.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_cellvta_100e.py'
]
meta_keys = ('img_path', 'seg_map_path', 'img_index', 'fold', 'ori_shape',
             'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label', 'tissue', 'tissue_label')
train_pipeline = [
    dict(type='LoadImageFromNpy'),
    dict(type='LoadPanNukeAnnotations'),
    dict(type='RandomRotate90', prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='Downscale', scale_range=(0.5, 0.5), prob=0.15),
    dict(type='Blur', blur_limit=10, prob=0.2),
    dict(type='GaussNoise', var_limit=(0, 50), prob=0.25),
    dict(
        type='ColorJitter',
        brightness=0.25,
        contrast=0.25,
        saturation=0.1,
        hue=0.05,
        prob=0.2),
    dict(
        type='Superpixels',
        p_replace=0.1,
        n_segments=200,
        max_size=128,
        prob=0.1),
    dict(type='ZoomBlur', max_factor=1.05, prob=0.1),
    dict(type='RandomSizedCrop', min_max_height=(128, 256), prob=0.1),
    dict(
        type='ElasticTransform',
        alpha=0.5,
        sigma=25,
        alpha_affine=15,
        prob=0.2),
    dict(type='GenerateHVMap'),
    dict(type='PackNucleiInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=16, dataset=dict(pipeline=train_pipeline))
max_epochs = 130
param_scheduler = [
    dict(
        type='ExponentialLR',
        gamma=0.95,
        by_epoch=True,
        begin=0,
        end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
# Mixed precision as CellViT (needs a GPU; use OptimWrapper on a CPU).
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
# The encoder trains from epoch 25 on (one process only, see the hook).
custom_hooks = [dict(type='BackboneUnfreezeHook', unfreeze_epoch=25)]
log_processor = dict(by_epoch=True)
