# Copyright (c) mmpathseg contributors. All rights reserved.
"""Referring data: the JSON format, masks from label values and RLE, answers
built from targets, tokenisation with [SEG]/[REJ] and packing."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from mmpathseg.datasets import ReferringSegDataset
from mmpathseg.datasets.transforms import (BuildReferringConversation,
                                           LoadReferringAnnotations,
                                           PackReferringInputs)
from mmpathseg.datasets.transforms.referring_conversation import build_answer
from mmpathseg.models.language.tokenizer import (build_referring_tokenizer,
                                                 task_token_ids)

WORDS = ['a', 'chat', 'user', ':', 'assistant', 'can', 'you', 'segment',
         'in', 'this', 'image', '?', 'sure', ',', '.', 'tumor', 'necrosis',
         'stroma', 'the', 'and']


def _tok(**kw):
    return dict(words=WORDS, **kw)


@pytest.fixture(scope='module')
def tiny_ref(tmp_path_factory):
    root = tmp_path_factory.mktemp('ref')
    (root / 'img').mkdir()
    (root / 'lab').mkdir()
    label = np.zeros((8, 10), np.uint8)
    label[:, :5] = 1  # tumor
    label[:, 5:] = 2  # stroma
    label[0] = 0  # ignored row
    img = np.full((8, 10, 3), 128, np.uint8)
    Image.fromarray(img).save(root / 'img/a.png')
    Image.fromarray(label).save(root / 'lab/a.png')
    from pycocotools import mask as mask_utils
    rle_mask = np.zeros((8, 10), np.uint8)
    rle_mask[2:4, 2:4] = 1
    rle = mask_utils.encode(np.asfortranarray(rle_mask))
    rle['counts'] = rle['counts'].decode()
    ann = dict(
        categories=[
            dict(id=1, name='tumor', label_values=[1]),
            dict(id=2, name='stroma', label_values=[2]),
            dict(id=3, name='necrosis', label_values=[4]),
        ],
        ignore_values=[0],
        images=[dict(id=0, file_name='a.png', label_file='a.png', height=8,
                     width=10, magnification='20x')],
        refs=[
            dict(id=0, image_id=0, expression='the tumor and the necrosis',
                 targets=[
                     dict(phrase='tumor', category_ids=[1], empty=False),
                     dict(phrase='necrosis', category_ids=[3], empty=True)
                 ]),
            dict(id=1, image_id=0, expression='the necrosis',
                 targets=[dict(phrase='necrosis', category_ids=[3],
                               empty=True)]),
            dict(id=2, image_id=0, expression='stroma',
                 targets=[dict(phrase='stroma', empty=False, mask=rle)]),
        ])
    (root / 'ann.json').write_text(json.dumps(ann))
    return root


def _dataset(root, **kw):
    return ReferringSegDataset(
        data_root=str(root), ann_file='ann.json',
        data_prefix=dict(img_path='img', seg_map_path='lab'), **kw)


def test_dataset_samples_and_filters(tiny_ref):
    ds = _dataset(tiny_ref)
    assert len(ds) == 3
    info = ds.get_data_info(0)
    assert info['expression'] == 'the tumor and the necrosis'
    assert [t['label_values'] for t in info['targets']] == [[1], [4]]
    assert ds.metainfo['classes'] == ('tumor', 'stroma', 'necrosis')
    assert len(_dataset(tiny_ref, drop_all_empty=True)) == 2
    split = _dataset(tiny_ref, split_targets=True)
    assert len(split) == 4
    assert split.get_data_info(1)['expression'] == 'necrosis'
    with pytest.raises(ValueError, match='max_targets'):
        _dataset(tiny_ref, max_targets=1)
    with pytest.raises(ValueError, match='no samples left'):
        _dataset(tiny_ref, magnifications=('40x', ))


def test_annotation_errors_name_the_record(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(dict(categories=[], images=[], refs=[
        dict(id=7, image_id=0, expression='x', targets=[])])))
    with pytest.raises(ValueError, match='ref 7 points at image_id 0'):
        ReferringSegDataset(ann_file=str(path))
    with pytest.raises(FileNotFoundError, match='generate_tissue_ref_demo'):
        ReferringSegDataset(ann_file=str(tmp_path / 'missing.json'))


def test_masks_from_label_values_and_rle(tiny_ref):
    ds = _dataset(tiny_ref)
    load = LoadReferringAnnotations()
    res = load(dict(ds.get_data_info(0)))
    assert res['gt_masks'].shape == (2, 8, 10)
    assert res['gt_masks'][0].sum() == 7 * 5  # ignored row removed
    assert not res['gt_masks'][1].any()
    assert res['gt_empty'].tolist() == [False, True]
    assert res['ignore_mask'][0].all() and not res['ignore_mask'][1:].any()
    res = load(dict(ds.get_data_info(2)))
    assert res['gt_masks'][0].sum() == 4 and res['gt_masks'][0, 2, 2]
    bad = dict(ds.get_data_info(1))
    bad['targets'] = [dict(bad['targets'][0], label_values=[1])]
    with pytest.raises(ValueError, match='flagged empty=True but its mask'):
        load(bad)


def test_build_answer():
    assert build_answer(['tumor', 'necrosis'], [False, True]) == \
        'Sure, tumor:[SEG], necrosis:[REJ].'
    assert build_answer(['tumor', 'necrosis'], [False, True],
                        use_rej=False) == 'Sure, tumor:[SEG], necrosis:[SEG].'
    assert build_answer(['a', 'b', 'c'], [True, False, False],
                        distinct_seg_tokens=True) == \
        'Sure, a:[REJ], b:[SEG1], c:[SEG2].'


def test_conversation_tokens_and_labels(tiny_ref):
    cfg = _tok(num_seg_tokens=10, use_rej=True)
    tok = build_referring_tokenizer(cfg)
    ids = task_token_ids(tok, cfg)
    conv = BuildReferringConversation(tokenizer=cfg, num_image_tokens=4,
                                      system='a chat')
    res = conv(LoadReferringAnnotations()(dict(
        _dataset(tiny_ref).get_data_info(0))))
    assert res['answer'] == 'Sure, tumor:[SEG], necrosis:[REJ].'
    input_ids, labels = res['input_ids'], res['labels']
    assert input_ids[0] == ids['bos'] and input_ids[-1] == ids['eos']
    assert (input_ids == ids['image']).sum() == 4
    assert (input_ids == ids['seg'][0]).sum() == 1
    assert (input_ids == ids['rej']).sum() == 1
    p = res['prompt_length']
    assert (labels[:p] == -100).all() and (labels[p:] == input_ids[p:]).all()
    assert tok.decode(input_ids[p:]).split() == [
        'sure', ',', 'tumor', ':', '[SEG]', ',', 'necrosis', ':', '[REJ]',
        '.', '</s>'
    ]
    # no [UNK] in the templated prompt beyond words we did not list
    packed = PackReferringInputs()(dict(res, img=np.zeros((8, 10, 3),
                                                          np.uint8)))
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 8, 10)
    assert sample.gt_masks.dtype == torch.bool
    assert sample.prompt_length == p
    assert sample.metainfo['phrases'] == ['tumor', 'necrosis']


def test_conversation_checks_slot_budget(tiny_ref):
    res = LoadReferringAnnotations()(dict(
        _dataset(tiny_ref).get_data_info(0)))
    lisa = BuildReferringConversation(
        tokenizer=_tok(num_seg_tokens=1), num_image_tokens=1)
    with pytest.raises(ValueError, match='split_targets=True'):
        lisa(dict(res, targets=res['targets'] * 2,
                  gt_empty=np.array([False] * 4)))
    # LISA without [REJ]: the empty target becomes a [SEG] in its own sample
    split = _dataset(tiny_ref, split_targets=True)
    out = lisa(LoadReferringAnnotations()(dict(split.get_data_info(1))))
    assert out['answer'] == 'Sure, necrosis:[SEG].'
    with pytest.raises(ValueError, match='max_length'):
        BuildReferringConversation(
            tokenizer=_tok(num_seg_tokens=2), num_image_tokens=600)(res)


def test_demo_vocabulary_covers_the_demo_text(repo_root):
    """The word-level tokenizer of the demo configs knows every word the
    demo generator and the templates produce (no <unk> in any sample)."""
    from mmengine.config import Config

    from mmpathseg.datasets.transforms.referring_conversation import \
        DEFAULT_QUESTIONS
    from tools.misc import generate_tissue_ref_demo_data as demo
    cfg = Config.fromfile(
        str(repo_root / 'configs/_base_/datasets/tissue_ref_demo.py'))
    tok = build_referring_tokenizer(cfg.tokenizer)
    texts = [cfg.system, 'user : assistant :']
    texts += [d for pair in demo.DESCRIPTIONS.values() for d in pair]
    texts += [name for _, name in demo.TISSUES]
    texts += [q.format(expression='') for q in DEFAULT_QUESTIONS]
    texts += [start for start, _ in cfg.answers]
    for text in texts:
        ids = tok.encode(text, add_special_tokens=False)
        assert tok.unk_token_id not in ids, text
