# Copyright (c) mmpathseg contributors. All rights reserved.
"""PNG masks round-trip losslessly, summaries count per class, and writes
are atomic."""
import json
import os

import numpy as np
import pytest

from mmpathseg.exports import (instance_summary, write_json_atomic,
                               write_label_png, write_summary)
from mmpathseg.exports.masks import read_label_png


@pytest.mark.parametrize('top,depth', [(200, 'u8'), (60000, 'u16'),
                                       (5_000_000, 'rgb')])
def test_png_round_trip(tmp_path, top, depth):
    rng = np.random.default_rng(0)
    label = rng.integers(0, top + 1, (30, 40))
    label[0, 0] = top
    path = write_label_png(label, tmp_path / f'{depth}.png')
    np.testing.assert_array_equal(read_label_png(path), label)
    with pytest.raises(ValueError, match='>= 0'):
        write_label_png(-label - 1, tmp_path / 'neg.png')


def test_summary_counts():
    summary = instance_summary([1, 1, 2, 5], [
        'background', 'Neoplastic', 'Inflammatory', 'Connective', 'Dead',
        'Epithelial'
    ], areas=[10, 20, 5, 7], image='x')
    assert summary['num_instances'] == 4
    assert summary['counts'] == dict(
        Neoplastic=2, Inflammatory=1, Connective=0, Dead=0, Epithelial=1)
    assert summary['mean_area_px']['Neoplastic'] == 15
    assert summary['mean_area_px']['Dead'] is None
    assert summary['image'] == 'x'


def test_writes_are_atomic(tmp_path):
    path = tmp_path / 'summary.json'
    write_summary(dict(a=np.int64(3), b=np.float32(0.5)), path)
    assert json.load(open(path)) == dict(a=3, b=0.5)
    # A failing write leaves the previous file and no temporary file.
    with pytest.raises(ValueError):
        write_json_atomic(dict(a=float('nan')), path)
    assert json.load(open(path)) == dict(a=3, b=0.5)
    assert os.listdir(tmp_path) == ['summary.json']
