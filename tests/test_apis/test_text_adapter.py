# Copyright (c) mmpathseg contributors. All rights reserved.
"""TextGuidedAdapter: MMPathSegInferencer on a tiny random text-guided model
(the MLMoE demo config with the test tokenizer), with and without
reports."""
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpathseg.apis import MMPathSegInferencer, get_task_adapter, init_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_text_models import write_tokenizer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'configs/demo/mlmoe-tiny_xray-demo.py'
REPORT = 'Bilateral pulmonary infection, two infected areas.'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('text_guided')
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.text_encoder.tokenizer = str(write_tokenizer(root / 'tok'))
    torch.manual_seed(0)
    model = init_model(cfg)
    ckpt = root / 'mlmoe.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    rng = np.random.default_rng(0)
    paths = []
    for i, (h, w) in enumerate([(64, 64), (48, 56)]):
        grey = rng.integers(0, 256, (h, w), dtype=np.uint8)
        paths.append(str(root / f'xray_{i}.png'))
        cv2.imwrite(paths[-1], grey)
    return cfg, str(ckpt), paths


def test_adapter_is_found(setup):
    cfg, ckpt, _ = setup
    adapter = get_task_adapter(init_model(cfg, ckpt))
    assert adapter.task == 'text_guided'
    assert 'LoadBinaryMask' in adapter.drop_transforms
    with pytest.raises(TypeError, match='str or None'):
        adapter.add_inputs(dict(img_path='x.png'), dict(text=['a list']))
    with pytest.raises(ValueError, match="takes \\['text'\\]"):
        adapter.add_inputs(dict(img_path='x.png'), dict(boxes=[[0, 0, 1,
                                                                1]]))


def test_inferencer_with_and_without_text(setup, tmp_path):
    cfg, ckpt, paths = setup
    inferencer = MMPathSegInferencer(cfg, ckpt, show_progress=False)
    out = inferencer(
        [dict(img=paths[0], text=REPORT), dict(img=paths[1])],
        batch_size=2,
        out_dir=str(tmp_path),
        export_formats=('png', 'summary'),
        return_vis=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'vis', 'xray_0_mask.png', 'xray_0_summary.json', 'xray_1_mask.png',
        'xray_1_summary.json'
    ]
    for k, (pred, shape, text) in enumerate(
            zip(out['predictions'], [(64, 64), (48, 56)], [REPORT, None])):
        assert pred['task'] == 'text_guided'
        assert pred['mask'].shape == shape
        assert set(np.unique(pred['mask']).tolist()) <= {0, 1}
        assert pred['text'] == text
        png = cv2.imread(str(tmp_path / f'xray_{k}_mask.png'),
                         cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(png, pred['mask'] * 255)
        summary = json.load(open(tmp_path / f'xray_{k}_summary.json'))
        assert summary['foreground_pixels'] == int(pred['mask'].sum())
        assert (summary['height'], summary['width']) == shape
        assert summary['has_text'] is (text is not None)
        assert summary['image'] == f'xray_{k}'
        vis = cv2.imread(str(tmp_path / 'vis' / f'xray_{k}.png'))
        assert vis.shape == shape + (3, )
        assert out['visualization'][k].shape == shape + (3, )


def test_text_changes_the_prediction(setup):
    cfg, ckpt, paths = setup
    inferencer = MMPathSegInferencer(cfg, ckpt, show_progress=False)
    out = inferencer(
        [
            dict(img=paths[0], text=REPORT),
            dict(img=paths[0], text=''),
            dict(img=paths[0], text='Unilateral pulmonary infection, one '
                 'infected area, upper left lung.')
        ],
        return_datasamples=True)
    logits = [p.seg_logits.data for p in out['predictions']]
    metas = [p.metainfo for p in out['predictions']]
    assert [m['has_text'] for m in metas] == [True, False, True]
    assert not torch.allclose(logits[0], logits[1])
    assert not torch.allclose(logits[0], logits[2])
    # Same image, same report: the same prediction.
    again = inferencer(dict(img=paths[0], text=REPORT),
                       return_datasamples=True)['predictions'][0]
    torch.testing.assert_close(again.seg_logits.data, logits[0])


def test_mixed_sizes_in_one_batch(setup):
    """A batch of two sizes runs as runs of equal size, in order, and
    predicts what single images do."""
    cfg, ckpt, paths = setup
    inferencer = MMPathSegInferencer(cfg, ckpt, show_progress=False)
    items = [dict(img=paths[0], text=REPORT), dict(img=paths[1]),
             dict(img=paths[0])]
    batched = inferencer(items, batch_size=3,
                         return_datasamples=True)['predictions']
    assert [p.seg_logits.data.shape[-2:] for p in batched] == [
        (64, 64), (48, 56), (64, 64)
    ]
    for item, pred in zip(items, batched):
        single = inferencer(item, return_datasamples=True)['predictions'][0]
        torch.testing.assert_close(pred.seg_logits.data,
                                   single.seg_logits.data, atol=1e-4,
                                   rtol=1e-4)
