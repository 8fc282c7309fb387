# Copyright (c) mmpathseg contributors. All rights reserved.
"""The generated X-ray demo: deterministic, reports agree with the masks,
readable by TextSegDataset."""
import csv
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
from mmengine.registry import init_default_scope
from PIL import Image
from scipy import ndimage

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'misc'))
import generate_xray_demo_data as gen  # noqa: E402

NUM = dict(train=12, val=4, test=4)


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob('*')):
        if p.is_file() and p.name != 'demo_info.json':
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_describe_template():
    assert gen.describe([('left', 'upper')]) == (
        'Unilateral pulmonary infection, one infected area, upper left lung.')
    assert gen.describe([('right', 'lower'), ('left', 'middle'),
                         ('left', 'upper')]) == (
        'Bilateral pulmonary infection, three infected areas, upper middle '
        'left lung and lower right lung.')


def test_generation_is_deterministic_and_consistent(tmp_path):
    gen.write_dataset(str(tmp_path / 'a'), NUM, size=64, seed=3)
    gen.write_dataset(str(tmp_path / 'b'), NUM, size=64, seed=3)
    assert _digest(tmp_path / 'a') == _digest(tmp_path / 'b')
    info = json.loads((tmp_path / 'a' / 'demo_info.json').read_text())
    assert info['splits']['train']['images'] == 12
    words = {'one': 1, 'two': 2, 'three': 3}
    with open(tmp_path / 'a' / 'train.csv') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    for row in rows:
        mask = np.asarray(
            Image.open(tmp_path / 'a' / 'masks' / row['Image'])) > 0
        text = row['Description']
        n = words[re.search(r', (\w+) infected', text).group(1)]
        _, components = ndimage.label(mask)
        assert 1 <= components <= n, text
        # The named sides hold lesion pixels; an unnamed side holds none.
        left, right = mask[:, :32].any(), mask[:, 32:].any()
        assert left == ('left lung' in text), text
        assert right == ('right lung' in text), text
    # Every report word is in the tokenizer's vocabulary.
    vocab = set((tmp_path / 'a' / 'tokenizer' / 'vocab.txt').read_text()
                .split())
    for row in rows:
        for word in re.findall(r'\w+|[,.]', row['Description'].lower()):
            assert word in vocab, word


def test_demo_reads_as_text_seg_dataset(tmp_path):
    gen.write_dataset(str(tmp_path), NUM, size=64, seed=0)
    init_default_scope('mmpathseg')
    from mmpathseg.datasets import TextSegDataset
    ds = TextSegDataset(
        data_root=str(tmp_path),
        ann_file='val.csv',
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadBinaryMask'),
            dict(type='PackTextSegInputs')
        ])
    assert len(ds) == 4
    out = ds[0]
    assert out['inputs'].shape == (3, 64, 64)
    assert out['data_samples'].text.endswith('lung.')
    assert out['data_samples'].gt_sem_seg.data.sum() > 0
