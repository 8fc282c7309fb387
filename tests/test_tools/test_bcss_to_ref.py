# Copyright (c) mmpathseg contributors. All rights reserved.
"""The BCSS -> BCSS-Ref converter on a generated BCSS-like release, and the
tissue referring demo generator."""
import json

import numpy as np
import pytest
from PIL import Image

from mmpathseg.datasets import BCSSRefDataset, ReferringSegDataset
from mmpathseg.datasets.transforms import LoadReferringAnnotations
from tools.dataset_converters import bcss_to_ref
from tools.misc import generate_tissue_ref_demo_data as demo

SLIDES = ['TCGA-A1-A0SK-DX1', 'TCGA-A2-A0CM-DX1', 'TCGA-BH-A18V-DX1',
          'TCGA-E2-A1L7-DX1']


def _fake_bcss(root):
    """Four 64 x 96 ROIs (one per slide): left half tumor (1) or DCIS (20),
    right half stroma (2), a band of lymphocytes (3), a 16-px column of code 0."""
    (root / 'rgbs_colorNormalized').mkdir()
    (root / 'masks').mkdir()
    rng = np.random.default_rng(0)
    for k, slide in enumerate(SLIDES):
        label = np.full((64, 96), 2, np.uint8)
        label[:, :48] = 1 if k % 2 else 20
        label[40:48, :] = 3
        label[:, 80:] = 0
        if k == 0:
            label[:32, 48:80] = 4  # necrosis in one tile
        name = f'{slide}_xmin{100 * k}_ymin7_MPP-0.2500.png'
        Image.fromarray(rng.integers(0, 255, (64, 96, 3), np.uint8)).save(
            root / 'rgbs_colorNormalized' / name)
        Image.fromarray(label).save(root / 'masks' / name)


def test_convert_tiny_bcss(tmp_path):
    src = tmp_path / 'bcss'
    src.mkdir()
    _fake_bcss(src)
    out = tmp_path / 'ref'
    counts = bcss_to_ref.convert(str(src), str(out), patch_size=16,
                                 num_folds=2, test_fold=0, seed=0)
    info = json.loads((out / 'info.json').read_text())
    assert info['counts'] == counts
    # slide-level split: each slide in exactly one split
    slides = {}
    for split in ('train', 'test'):
        ann = json.loads((out / f'annotations/{split}.json').read_text())
        for img in ann['images']:
            assert slides.setdefault(img['slide_id'], split) == split
    assert len(slides) == 4
    assert counts['train']['slides'] == counts['test']['slides'] == 2
    # 40x: 4 x 6 tiles per ROI, the all-code-0 column dropped -> 4 x 5;
    # 20x: 32 x 48 -> 2 x 3 tiles; the last column is half code 0 (= the
    # 0.5 limit), so it stays
    total = {m: counts['train']['images'][m] + counts['test']['images'][m]
             for m in ('20x', '40x')}
    assert total == {'40x': 4 * 4 * 5, '20x': 4 * 2 * 3}
    ds = BCSSRefDataset(
        data_root=str(out), ann_file='annotations/train.json',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        magnifications=('20x', ))
    load = LoadReferringAnnotations()
    kinds = set()
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['magnification'] == '20x'
        res = load(dict(info))  # RLE masks agree with the empty flags
        assert res['gt_masks'].shape[1:] == (16, 16)
        kinds.add(len(info['targets']))
        for t, m in zip(info['targets'], res['gt_masks']):
            assert t['empty'] == (not m.any())
    assert kinds >= {1, 2}
    assert counts['train']['empty_targets'] > 0


def test_tile_presence_rules():
    label = np.full((16, 16), 2, np.uint8)
    label[5, 5] = 4  # necrosis below min-area: neither present nor absent
    label[:, :2] = 20  # DCIS counts as tumor
    refs = bcss_to_ref.refs_for_tile(label, 0, 0, np.random.default_rng(0),
                                     min_area=0.05)
    phrases = [[t['phrase'] for t in r['targets']] for r in refs]
    assert ['tumor'] in phrases and ['stroma'] in phrases
    assert all('necrosis' not in p for p in phrases)
    empty = [r for r in refs if r['expression_type'] == 'empty'][0]
    assert empty['targets'][0]['phrase'] == 'inflammatory infiltrate'
    assert empty['no_target'] and empty['targets'][0]['mask'] is None


def test_converter_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='rgbs_colorNormalized'):
        bcss_to_ref.convert(str(tmp_path), str(tmp_path / 'o'))
    with pytest.raises(ValueError, match='not a BCSS file name'):
        bcss_to_ref.slide_id_of('slide1.png')
    with pytest.raises(ValueError, match='--test-fold'):
        bcss_to_ref.split_slides(SLIDES, 2, 2, 0)


def test_demo_generator_is_deterministic(tmp_path):
    a = demo.write_dataset(str(tmp_path / 'a'), 3, 2, 64, seed=1)
    demo.write_dataset(str(tmp_path / 'b'), 4, 2, 64, seed=1)
    assert a['counts']['train'] == dict(images=3, refs=15)
    for name in ('images/train_0002.png', 'labels/val_0001.png'):
        assert (tmp_path / 'a' / name).read_bytes() == \
            (tmp_path / 'b' / name).read_bytes()
    ds = ReferringSegDataset(
        data_root=str(tmp_path / 'a'), ann_file='annotations/train.json',
        data_prefix=dict(img_path='images', seg_map_path='labels'))
    kinds = {}
    load = LoadReferringAnnotations()
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        res = load(dict(info))
        kinds.setdefault(len(info['targets']), []).append(
            res['gt_empty'].tolist())
    assert [True] in kinds[1] and [False] in kinds[1]
    assert [False, True] in kinds[2] and [False, False] in kinds[2]
