# Synthetic H&E nuclei tiles in the PanNuke release layout, written by
# `python tools/misc/generate_demo_data.py` (see data/README.md). The same
# dataset code reads the real PanNuke: point `data_root` at it.
# Split 1 as in CellViT/CellVTA (0-based folds): train 0, val 1, test 2.
dataset_type = 'PanNukeDataset'
data_root = 'data/pannuke_demo'
crop_size = (128, 128)
# mmseg's default meta keys plus the row/fold/tissue of each tile; the
# visualization hook reads the image back from `img_path[img_index]`.
meta_keys = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'reduce_zero_label', 'img_index', 'fold', 'tissue')
train_pipeline = [
    # BGR uint8, as mmseg's LoadImageFromFile.
    dict(type='LoadImageFromNpy'),
    # Semantic map only: mmcv's RandomFlip flips `gt_seg_map` but not other
    # seg fields such as `gt_inst_map`.
    dict(type='LoadPanNukeAnnotations', with_inst=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromNpy'),
    dict(type='LoadPanNukeAnnotations', with_inst=False),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=[0],
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=[1],
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        folds=[2],
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice'])
test_evaluator = val_evaluator
