# Copyright (c) mmpathseg contributors. All rights reserved.
"""tools/analysis_tools/benchmark_cellvta.py end to end on the tiny demo
config (one timed run, no warm-up, in process, 128 px tile: the
demo's training crop, to keep it fast) and the small MSDA
shape; the straightforward MSDA must agree with ours."""
import re

import torch

from tools.analysis_tools import benchmark_cellvta as bench


def test_benchmark_main_tiny_and_small_msda(capsys):
    table = bench.main([
        '--skip-full', '--repeats', '1', '--warmup', '0', '--size', '128',
        '--in-process',
        '--msda-shapes', 'small', '--msda-repeats', '1'
    ])
    printed = capsys.readouterr().out
    assert table in printed
    rows = [line for line in table.splitlines() if line.startswith('| ')]
    # two headers, the tiny config, the small MSDA shape
    assert len(rows) == 4, table
    assert rows[0].startswith('| config |')
    assert rows[1].startswith('| cellvta-tiny_pannuke-demo.py |')
    assert 'uni_pannuke-fold1.py' not in table
    assert rows[2].startswith('| MSDA shape |')
    assert rows[3].startswith('| small |')
    cells = [c.strip() for c in rows[1].strip('|').split('|')]
    forward, train = (float(c.split()[0]) for c in cells[2:4])
    assert forward > 0 and train > 0
    rss = [float(v) for v in cells[4].split(' / ')]
    assert rss == sorted(rss) and rss[0] > 0  # high-water marks
    diff = float(rows[3].strip('|').split('|')[-1])
    assert diff < 1e-4
    assert re.search(r'\d+\.\d+x', rows[3])


def test_direct_msda_matches_core_at_cellvta_head_layout():
    """Float64, locations partly outside the maps, several levels."""
    from mmpathseg.models.backbones.adapter import (level_layout,
                                                    ms_deform_attn_core)
    shapes = [(6, 5), (3, 4), (2, 2)]
    value, locations, weights = bench.msda_inputs(9, shapes, 2, 4, 3)
    value, locations, weights = (t.double()
                                 for t in (value, locations, weights))
    spatial, starts = level_layout(shapes, torch.device('cpu'))
    out = ms_deform_attn_core(value, spatial, starts, locations, weights)
    torch.testing.assert_close(
        bench.direct_msda(value, shapes, locations, weights),
        out,
        rtol=1e-10,
        atol=1e-10)
