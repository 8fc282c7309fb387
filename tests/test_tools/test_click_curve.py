# Copyright (c) mmpathseg contributors. All rights reserved.
"""The per-click DSC tool follows the model's own test loop."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from mmpathseg.evaluation.metrics.prompt_dice_metric import mask_dice
from mmpathseg.registry import MODELS
from tools.analysis_tools.click_curve import click_curves, click_predictions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_promptable import tiny_batch, tiny_syncsam  # noqa: E402

init_default_scope('mmpathseg')


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    model = MODELS.build(tiny_syncsam())
    model.init_weights()
    model.test_cfg.points = (1, 2, 3)
    return model.eval()


def test_previous_curve_is_what_the_model_predicts(model):
    with torch.no_grad():
        samples = model.test_step(tiny_batch())
    expected = []
    for k in (1, 2, 3):
        expected.append(np.concatenate([
            mask_dice(s.get(f'pred_masks_{k}pt').numpy(),
                      s.ori_gt_masks.numpy()) for s in samples
        ]).mean() * 100)
    curves = click_curves(model, [tiny_batch()], 3, ('previous', ))
    np.testing.assert_allclose(curves['previous'], expected)


def test_mask_prompt_of_each_variant(model, monkeypatch):
    """Round 2 gets the previous prediction (as test_cfg.mask_prompt says),
    nothing, or the ground truth at the mask-prompt size."""
    model.test_cfg.mask_prompt = 'prob'  # SAM-Med2D's (the tiny: logits)
    data = model.data_preprocessor(tiny_batch(), False)
    decode = model.decode
    for variant in ('previous', 'none', 'oracle'):
        calls = []

        def spy(*args, **kwargs):
            calls.append(kwargs)
            calls[-1]['out'] = decode(*args, **kwargs)
            return calls[-1]['out']

        monkeypatch.setattr(model, 'decode', spy)
        preds = click_predictions(model, data['inputs'],
                                  data['data_samples'], 2, variant)
        assert len(preds) == 2 and calls[0]['masks'] is None
        assert calls[1]['points'][0].shape[1] == 2
        masks = calls[1]['masks']
        if variant == 'none':
            assert masks is None
        elif variant == 'previous':
            torch.testing.assert_close(masks, calls[0]['out'][0].sigmoid())
        else:
            gt = model._gather(data['inputs'], data['data_samples'])['gt']
            assert masks.shape[-2:] == model.prompt_encoder.mask_input_size
            # 0/1 (prob) targets, downsampled 4x from the 64 px input
            assert masks.min() == 0 and masks.max() == 1
            assert masks.sum() == pytest.approx(
                gt.float().sum().item() / 16, rel=0.2)
    with pytest.raises(ValueError, match='variant must be one of'):
        click_predictions(model, data['inputs'], data['data_samples'], 2,
                          'gt')
