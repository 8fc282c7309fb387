# Copyright (c) mmpathseg contributors. All rights reserved.
"""PromptableAdapter: MMPathSegInferencer on a tiny random promptable model
(the SyncSAM demo config) with user boxes and points."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpathseg.apis import (MMPathSegInferencer, get_task_adapter,
                            inference_model, init_model)

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'configs/demo/syncsam-tiny_ct-demo.py'
BOXES = [[10, 12, 60, 50], [70, 20, 120, 90]]
POINTS = [[[40, 30], [90, 40]]]
LABELS = [[1, 0]]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('promptable')
    cfg = Config.fromfile(str(CONFIG))
    torch.manual_seed(0)
    model = init_model(cfg)
    ckpt = root / 'syncsam.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    rng = np.random.default_rng(0)
    paths = []
    for i, (h, w) in enumerate([(96, 160), (128, 128)]):
        paths.append(str(root / f'ct_{i}.png'))
        cv2.imwrite(paths[-1], rng.integers(0, 256, (h, w, 3),
                                            dtype=np.uint8))
    return cfg, str(ckpt), paths


def test_adapter_checks_prompts(setup):
    cfg, ckpt, _ = setup
    adapter = get_task_adapter(init_model(cfg, ckpt))
    assert adapter.task == 'promptable'
    assert {'LoadPromptMasks', 'GenerateBoxPrompt'} <= set(
        adapter.drop_transforms)
    with pytest.raises(ValueError, match='give `boxes`'):
        adapter.add_inputs(dict(img_path='x.png'), None)
    with pytest.raises(ValueError, match=r'\(N, 4\)'):
        adapter.add_inputs(dict(img_path='x.png'), dict(boxes=[1, 2, 3, 4]))
    with pytest.raises(ValueError, match='x2 >= x1'):
        adapter.add_inputs(dict(img_path='x.png'), dict(boxes=[[5, 5, 1,
                                                                9]]))
    with pytest.raises(ValueError, match='2 boxes but 1 point'):
        adapter.add_inputs(dict(img_path='x.png'),
                           dict(boxes=BOXES, points=POINTS))
    with pytest.raises(ValueError, match='do not match points'):
        adapter.add_inputs(dict(img_path='x.png'),
                           dict(points=POINTS, point_labels=[[1]]))
    with pytest.raises(ValueError, match='unknown extra inputs'):
        adapter.add_inputs(dict(img_path='x.png'), dict(text='liver'))


def test_inferencer_boxes_and_points(setup, tmp_path):
    cfg, ckpt, paths = setup
    inferencer = MMPathSegInferencer(cfg, ckpt, show_progress=False)
    out = inferencer(
        [
            dict(img=paths[0], boxes=BOXES),
            dict(img=paths[1], points=POINTS, point_labels=LABELS,
                 boxes=BOXES[:1])
        ],
        batch_size=2,  # one batch of two sizes and prompt counts
        out_dir=str(tmp_path),
        export_formats=('png', 'summary'),
        return_vis=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'ct_0_mask_0.png', 'ct_0_mask_1.png', 'ct_0_masks.png',
        'ct_0_summary.json', 'ct_1_mask_0.png', 'ct_1_masks.png',
        'ct_1_summary.json', 'vis'
    ]
    first, second = out['predictions']
    assert first['masks'].shape == (2, 96, 160)
    assert first['masks'].dtype == bool
    # Prompts come back in original pixels (the pipeline resized 160 -> 128).
    np.testing.assert_allclose(first['boxes'], BOXES, atol=1e-3)
    assert first['points'] is None
    assert second['masks'].shape == (1, 128, 128)
    np.testing.assert_allclose(second['points'], POINTS, atol=1e-3)
    np.testing.assert_array_equal(second['point_labels'], LABELS)
    for k, pred in enumerate(out['predictions']):
        summary = json.load(open(tmp_path / f'ct_{k}_summary.json'))
        assert summary['num_prompts'] == len(pred['masks'])
        assert [p['foreground_pixels'] for p in summary['prompts']] == [
            int(m.sum()) for m in pred['masks']
        ]
        for i, mask in enumerate(pred['masks']):
            png = cv2.imread(str(tmp_path / f'ct_{k}_mask_{i}.png'),
                             cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(png > 0, mask)
        shape = pred['masks'].shape[1:]
        assert cv2.imread(str(tmp_path / 'vis' /
                              f'ct_{k}.png')).shape == shape + (3, )
    assert summary['prompts'][0]['point_labels'] == [1, 0]
    assert summary['prompts'][0]['box'] == [10.0, 12.0, 60.0, 50.0]


def test_prompts_reach_the_decoder(setup):
    """Each prompt is decoded on its own (a box's mask does not depend on
    the other prompts), in the model's input frame (160 px -> 128 px)."""
    cfg, ckpt, paths = setup
    model = init_model(cfg, ckpt)
    both = inference_model(model, paths[0], dict(boxes=BOXES))
    one = inference_model(model, paths[0], dict(boxes=BOXES[1:]))
    assert torch.equal(both.pred_masks[1], one.pred_masks[0])
    seen = []
    decode = model.decode

    def spy(emb, hq, points=None, boxes=None):
        seen.append((emb.shape[0], points, boxes))
        return decode(emb, hq, points=points, boxes=boxes)

    model.decode = spy
    inference_model(model, paths[0],
                    dict(points=[[[40, 30]], [[100, 80]]],
                         point_labels=[[1], [0]]))
    num, (coords, labels), boxes = seen[0]
    assert num == 2 and boxes is None
    # PromptResize 'longest': 160 x 96 -> 128 x int(96 * 0.8 + 0.5) = 77.
    sx, sy = 128 / 160, 77 / 96
    torch.testing.assert_close(
        coords, torch.tensor([[[40 * sx, 30 * sy]], [[100 * sx, 80 * sy]]]))
    assert labels.tolist() == [[1], [0]]
