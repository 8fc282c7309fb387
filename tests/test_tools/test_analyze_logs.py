# Copyright (c) mmpathseg contributors. All rights reserved.
"""analyze_logs.py reads mmengine JSON logs (a work dir or the file) and
writes loss/metric curves as a PNG."""
import json

import cv2
import pytest

from tools.analysis_tools import analyze_logs


def _write_run(work_dir, name='20260101_000000', steps=(10, 20, 30)):
    vis = work_dir / name / 'vis_data'
    vis.mkdir(parents=True)
    lines = [
        json.dumps(dict(lr=1e-3, loss=3.0 / s, loss_ce=1.0 / s, time=0.1,
                        iter=s, step=s)) for s in steps
    ]
    lines.insert(2, json.dumps(dict(mIoU=0.5, mDice=0.6, step=20)))
    (vis / 'scalars.json').write_text('\n'.join(lines) + '\n')
    return vis / 'scalars.json'


def test_curves_from_a_work_dir(tmp_path, capsys):
    _write_run(tmp_path / 'run_a')
    out = analyze_logs.main(
        [str(tmp_path / 'run_a'), '--out',
         str(tmp_path / 'plots' / 'c.png')])
    assert out['keys'] == ['loss', 'mIoU', 'mDice']
    image = cv2.imread(str(tmp_path / 'plots' / 'c.png'))
    assert image is not None and image.shape[1] == 3 * 450
    text = capsys.readouterr().out
    assert 'run_a loss: first 0.3000, last 0.1000' in text


def test_two_logs_and_explicit_keys(tmp_path):
    log_a = _write_run(tmp_path / 'a')
    log_b = _write_run(tmp_path / 'b', steps=(10, 20, 30, 40))
    analyze_logs.main([
        str(log_a), str(log_b), '--keys', 'loss_ce', '--legend', 'A', 'B',
        '--out',
        str(tmp_path / 'c.png')
    ])
    assert cv2.imread(str(tmp_path / 'c.png')).shape[1] == 450
    with pytest.raises(KeyError, match='in no log'):
        analyze_logs.main([str(log_a), '--keys', 'PQ'])
    with pytest.raises(FileNotFoundError, match='work dir'):
        analyze_logs.main([str(tmp_path / 'nothing')])
    (tmp_path / 'bad.json').write_text('{"loss": 1, "step": 1}\nnot json\n')
    with pytest.raises(ValueError, match='bad.json:2'):
        analyze_logs.main([str(tmp_path / 'bad.json')])
