# The tissue referring demo for LISA: one target per conversation, one
# [SEG], no [REJ] (absent targets get [SEG] and an all-zero mask).
_base_ = ['./tissue_ref_demo.py']
tokenizer = dict(
    words={{_base_.demo_words}},
    model_max_length=128,
    num_seg_tokens=1,
    distinct_seg_tokens=False,
    use_rej=False)
num_image_tokens = 16
system = 'a chat'
answers = {{_base_.answers}}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(
        type='BuildReferringConversation',
        tokenizer=tokenizer,
        num_image_tokens=num_image_tokens,
        random_template=True,
        answers=answers,
        system=system,
        max_length=128),
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
        answers=answers,
        system=system,
        max_length=128),
    dict(type='PackReferringInputs'),
]
train_dataloader = dict(
    dataset=dict(split_targets=True, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(split_targets=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
