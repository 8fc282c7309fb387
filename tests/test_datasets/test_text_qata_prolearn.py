# Copyright (c) mmpathseg contributors. All rights reserved.
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools' /
                       'dataset_converters'))
import qata_prolearn  # noqa: E402


def _layout(root: Path, ids):
    for sub in ('images', 'masks', 'reports'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in ids:
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(
            root / 'images' / f'{i}.png')
        mask = np.zeros((8, 8), np.uint8)
        mask[2:4, 2:4] = 255
        Image.fromarray(mask).save(root / 'masks' / f'{i}.png')
        (root / 'reports' / f'{i}.txt').write_text(
            f'bilateral pulmonary infection,\n two infected areas {i}.\n')


def test_converter_writes_tables_read_by_dataset(tmp_path):
    _layout(tmp_path, ['covid_1', 'covid_2', 'covid_3'])
    (tmp_path / 'split.json').write_text(json.dumps(dict(
        train=['covid_1', 'covid_2', 'covid_1'], val=['covid_3'],
        test=['covid_3'])))
    assert qata_prolearn.main([str(tmp_path)]) == dict(train=2, val=1,
                                                       test=1)
    init_default_scope('mmpathseg')
    from mmpathseg.datasets import TextSegDataset
    ds = TextSegDataset(
        data_root=str(tmp_path),
        ann_file='train.csv',
        data_prefix=dict(img_path='images', seg_map_path='masks'))
    assert len(ds) == 2
    assert ds.get_data_info(0)['text'] == (
        'bilateral pulmonary infection, two infected areas covid_1.')


def test_converter_names_missing_files(tmp_path):
    _layout(tmp_path, ['covid_1'])
    (tmp_path / 'reports' / 'covid_1.txt').unlink()
    (tmp_path / 'split.json').write_text(json.dumps(dict(
        train=['covid_1'], val=[], test=[])))
    with pytest.raises(FileNotFoundError, match="covid_1.*report"):
        qata_prolearn.convert(str(tmp_path))
