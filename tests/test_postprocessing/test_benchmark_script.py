# Copyright (c) mmpathseg contributors. All rights reserved.
"""``tools/analysis_tools/benchmark_postprocessing.py`` runs and reports
identical outputs (times are printed, never asserted)."""
import sys

import pytest

from tools.analysis_tools import benchmark_postprocessing as bench


@pytest.mark.parametrize('backend', ['compiled', 'numpy'])
def test_benchmark_runs_on_a_small_tile(monkeypatch, capsys, backend):
    monkeypatch.setattr(sys, 'argv', [
        'benchmark_postprocessing.py', '--case', '96:15', '--repeat', '1',
        '--backend', backend
    ])
    bench.main()
    out = capsys.readouterr().out
    assert f'mmpathseg backend: {backend}' in out
    rows = [line for line in out.splitlines() if line.startswith('96px/')]
    assert [row.split('|')[1].strip() for row in rows] == [
        'per-instance extraction', 'watershed (NP+HV -> map)',
        'end to end (NP/HV/NC -> instances)', 'PQ'
    ]
    assert all(row.rstrip().endswith('yes') for row in rows), out


def test_synthetic_tile_is_realistic():
    inst, types = bench.synthetic_instances(256, 100, seed=0)
    assert len(bench.np.unique(inst)) - 1 == 100
    assert 0.1 < (inst > 0).mean() < 0.45  # NuCLS tiles: 0.11-0.44
    assert set(bench.np.unique(types)) == {0, 1, 2, 3, 4, 5}
    hv = bench.hv_targets(inst)
    assert hv.min() == -1 and hv.max() == 1
