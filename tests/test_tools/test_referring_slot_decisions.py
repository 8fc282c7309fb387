# Copyright (c) mmpathseg contributors. All rights reserved.
"""The [SEG]/[REJ] decision analysis on hand-built margins."""
import math

import numpy as np

from tools.analysis_tools import referring_slot_decisions as rsd


def _rec(margin, absent, phrase='tumor', slot=0, n=1, change=0.1):
    return dict(margin=margin, absent=absent, phrase=phrase, slot=slot,
                n_targets=n, targets_slot=f'{n}/{slot}', image_change=change)


def test_auc_and_best_threshold_by_hand():
    # positives (absent) scored -margin: 3, 1 vs negatives 2, -1 (ties 0)
    assert rsd.auc(np.array([3., 1.]), np.array([2., -1.])) == 0.75
    assert rsd.auc(np.array([1.]), np.array([1.])) == 0.5
    assert math.isnan(rsd.auc(np.array([]), np.array([1.])))
    margins = np.array([-3., -1., 0.5, 2., 1.])
    absent = np.array([True, True, True, False, False])
    # threshold 0.5: every absent (<= 0.5) rejected, both present accepted
    assert rsd.best_sum(margins, absent) == (100.0, 100.0)


def test_summary_separates_text_only_decisions():
    # a model that rejects every one-target expression and accepts every
    # second slot, whatever the image: 50 / 50 split per group
    records = [
        _rec(-1., True), _rec(-1., False),  # one target: absent / present
        _rec(2., False, 'stroma', 0, 2), _rec(2., True, 'stroma', 1, 2),
    ]
    out = rsd.summarise(records)
    assert out['n_acc'] == 50.0 and out['t_acc'] == 50.0
    assert out['by_targets_slot']['1/0'] == dict(
        absent=1, n_acc=100.0, t_acc=0.0)
    assert out['by_targets_slot']['2/1'] == dict(
        absent=1, n_acc=0.0, t_acc=None)
    assert out['by_phrase']['stroma']['t_acc'] == 100.0
    assert out['image_change'] == 0.1
    assert out['margin_absent'] == 0.5 and out['margin_present'] == 0.5
