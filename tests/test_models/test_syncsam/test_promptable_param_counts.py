# Copyright (c) mmpathseg contributors. All rights reserved.
"""Full-size promptable configs have the published sizes (meta device).

SyncSAM paper: about 138M / 48M (RN-50) and 116M / 26M (RN-34), total /
trainable. MedSAM 93.7M and SAM-Med2D 271M as counted from their code
(../shared/research/syncsam.md, sections 2.1 and 3).
"""
import pytest

from tools.analysis_tools.count_params import main

EXPECTED = [
    ('configs/syncsam/rn50_samed2d.py', 138_428_204, 48_390_348),
    ('configs/syncsam/rn34_samed2d.py', 116_019_884, 25_982_028),
    ('configs/medsam/vit-b_samed2d.py', 93_735_472, 93_729_252),
    ('configs/sam-med2d/vit-b-adapter_samed2d.py', 271_241_776,
     184_569_136),
    ('configs/sam/vit-b-1024_samed2d.py', 93_735_472, 0),
]


@pytest.mark.parametrize('config,total,trainable', EXPECTED)
def test_promptable_counts(repo_root, config, total, trainable):
    rows = main([str(repo_root / config), '--depth', '0'])
    assert rows[0][1:] == (total, trainable)
    # The paper's rounded figures.
    if 'syncsam' in config:
        arch = config.split('/')[-1][:4]
        paper = {'rn50': (138, 48), 'rn34': (116, 26)}[arch]
        assert (round(total / 1e6), round(trainable / 1e6)) == paper
