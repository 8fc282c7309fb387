# BCSS-Ref for LISA: one [SEG] per conversation and no [REJ], so every
# target is its own sample (its phrase is the expression) and an absent
# target is answered with [SEG] and an all-zero mask.
_base_ = ['./bcss_ref.py']
tokenizer = dict(
    pretrained='checkpoints/llava-7b-v1-1-hf',
    use_fast=False,
    model_max_length=512,
    num_seg_tokens=1,
    distinct_seg_tokens=False,
    use_rej=False)
num_image_tokens = 256
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
    dataset=dict(
        split_targets=True, drop_all_empty=False, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(split_targets=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
