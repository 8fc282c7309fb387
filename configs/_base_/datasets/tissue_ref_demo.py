# The generated tissue referring demo (tools/misc/generate_tissue_ref_demo_data
# .py -> data/tissue_ref_demo): 128 px tiles, 5 expressions each (single,
# multi, empty, mixed, all). GSVA/LTSE answers: one [SEG] reused for up to
# M = 4 targets and [REJ]. A word-level tokenizer made in code covers the
# vocabulary of the templates and expressions.
dataset_type = 'ReferringSegDataset'
data_root = 'data/tissue_ref_demo'
max_targets = 4
demo_words = [
    'a', 'chat', 'user', 'assistant', ':', ',', '.', '?', 'can', 'you',
    'segment', 'in', 'this', 'image', 'please', 'what', 'are', 'respond',
    'with', 'output', 'segmentation', 'masks', 'sure', 'they', 'the',
    'results', 'mask', 'of', 'is', 'and', 'tumor', 'region', 'nests', 'cells',
    'stroma', 'fibrous', 'inflammatory', 'infiltrate', 'clusters',
    'lymphocytes', 'necrosis', 'necrotic', 'debris'
]
tokenizer = dict(
    words=demo_words,
    model_max_length=128,
    num_seg_tokens=max_targets,
    distinct_seg_tokens=False,
    use_rej=True)
num_image_tokens = 16  # tiny CLIP: 56 px / patch 14
system = 'a chat'
# GSVA's answer templates that put the phrase right before its slot token:
# the state predicting [SEG] is then the phrase's own token, which a random
# 2-layer LLM already tells apart (after "tumor:" every target would start
# from the same ":" state and the masks could not depend on the target).
answers = [('Sure,', '{phrase} {token}'),
           ('The segmentation results are', '{phrase} {token}')]
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
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        max_targets=max_targets,
        drop_all_empty=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        max_targets=max_targets,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='ReferringMetric', mode='gsva', add_fn_union=True,
    group_by='magnification')
test_evaluator = val_evaluator
