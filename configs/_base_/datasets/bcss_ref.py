# BCSS-Ref written by tools/dataset_converters/bcss_to_ref.py (both
# magnifications; metrics also per magnification).
dataset_type = 'BCSSRefDataset'
data_root = 'data/bcss_ref'
max_targets = 10  # M
# The tokenizer builds the answers here and the model's vocabulary (set
# `model.mllm.tokenizer` to this in the top-level config): GSVA/LTSE add one
# [SEG] token reused for up to M targets and a [REJ] token.
tokenizer = dict(
    pretrained='checkpoints/llava-7b-v1-1-hf',
    use_fast=False,
    model_max_length=512,
    num_seg_tokens=max_targets,
    distinct_seg_tokens=False,
    use_rej=True)
num_image_tokens = 256  # CLIP ViT-L/14 at 224 px, CLS dropped
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(
        type='BuildReferringConversation',
        tokenizer=tokenizer,
        num_image_tokens=num_image_tokens,
        random_template=True,
        max_length=512),
    dict(type='PackReferringInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(
        type='BuildReferringConversation',
        tokenizer=tokenizer,
        num_image_tokens=num_image_tokens,
        random_template=False,
        max_length=512),
    dict(type='PackReferringInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        max_targets=max_targets,
        # GSVA redraws samples whose targets are all absent
        drop_all_empty=True,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/test.json',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        max_targets=max_targets,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='ReferringMetric', mode='gsva', add_fn_union=True,
    group_by='magnification')
test_evaluator = val_evaluator
