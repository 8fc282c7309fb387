# Copyright (c) mmpathseg contributors. All rights reserved.
"""The parameter-count tool reproduces the published model sizes."""
import pytest

from tools.analysis_tools.count_params import main

# (config, total, trainable): CellVTA from the hand count of the reference
# code (../shared/research/cellvta.md, section 1.6), CellViT-SAM-H from
# CellViT's logs. CoNIC differs from the reference by its unused 1-class
# tissue Linear (1,025), which we do not build.
PUBLISHED = [
    ('configs/cellvta/uni_pannuke-fold1.py', 387_769_437, 84_420_701),
    ('configs/cellvit/sam-h_pannuke-fold1.py', 699_741_149, 62_715_101),
]


@pytest.mark.parametrize('config,total,trainable', PUBLISHED)
def test_counts_match_published(repo_root, config, total, trainable, capsys):
    rows = main([str(repo_root / config), '--depth', '1'])
    assert rows[0][1:] == (total, trainable)
    assert f'**{total:,}**' in capsys.readouterr().out
