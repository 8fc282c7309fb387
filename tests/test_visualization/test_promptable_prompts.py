# Copyright (c) mmpathseg contributors. All rights reserved.
"""PromptableSegmentor.predict keeps the prompts of every test mode on the
data sample (box, the pipeline's first click, the simulated error clicks),
so the visualizer can draw them; the metric fields are unchanged."""
import sys
from pathlib import Path

import numpy as np
import torch
from mmengine.registry import init_default_scope

from mmpathseg.registry import MODELS
from mmpathseg.visualization import draw_promptable_sample

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_promptable import tiny_batch, tiny_syncsam  # noqa: E402


def test_predict_stores_the_prompts_of_each_mode():
    init_default_scope('mmpathseg')
    torch.manual_seed(0)
    model = MODELS.build(tiny_syncsam())
    model.init_weights()
    model.eval()
    with torch.no_grad():
        samples = model.test_step(tiny_batch(num_images=2, masks_per_image=3))
    for sample in samples:
        assert torch.equal(sample.prompt_boxes_box, sample.gt_boxes)
        for mode, clicks in (('1pt', 1), ('5pt', 5)):
            points = sample.get(f'prompt_points_{mode}')
            labels = sample.get(f'prompt_point_labels_{mode}')
            assert tuple(points.shape) == (3, clicks, 2)
            assert tuple(labels.shape) == (3, clicks)
            # The first click is the pipeline's.
            assert torch.equal(points[:, 0], sample.gt_points[:, 0])
            assert torch.equal(labels[:, 0], sample.gt_point_labels[:, 0])
            # Error clicks: positive on the object, negative off it
            # (input frame = the gt_masks frame here).
            for k in range(3):
                for (x, y), lab in zip(points[k].long(), labels[k]):
                    if lab >= 0:
                        assert bool(sample.gt_masks[k, y, x]) == bool(lab)
        assert set(sample.keys()) >= {
            'pred_masks_box', 'pred_masks_1pt', 'pred_masks_5pt'
        }
    # The five clicks of the 5-click mode are not all the first one.
    points = torch.cat([s.prompt_points_5pt for s in samples])
    assert (points[:, 1:] != points[:, :1]).any()
    # Drawn: ground truth + three modes.
    sample = samples[0]
    h, w = sample.metainfo['ori_shape']
    picture = draw_promptable_sample(
        np.zeros((h, w, 3), np.uint8), sample, min_size=0)
    assert picture.shape[1] == 4 * w + 3 * 6
    # The first click, input (x, y), is drawn at the original (2x, 2y)
    # (input 64 px, original 128 px) in the 1-click panel, green.
    one_click = picture[-h:, 2 * (w + 6):2 * (w + 6) + w]
    for x, y in sample.gt_points[:, 0].long().tolist():
        assert tuple(one_click[2 * y, 2 * x]) == (0, 255, 0)
