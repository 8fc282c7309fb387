# Copyright (c) mmpathseg contributors. All rights reserved.
"""ReferringAdapter: MMPathSegInferencer on the tiny random LTSE demo
model (tokenizer made in code), with a scripted and a real greedy
answer."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmpathseg.apis import MMPathSegInferencer, get_task_adapter, init_model

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'configs/demo/ltse-tiny_tissue-ref-demo.py'
EXPRESSION = 'the tumor nests and the stroma'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('referring')
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.test_cfg = dict(mode='generate', max_new_tokens=6)
    torch.manual_seed(0)
    ckpt = root / 'ltse.pth'
    torch.save(dict(state_dict=init_model(cfg).state_dict()), ckpt)
    rng = np.random.default_rng(0)
    paths = []
    for i, (h, w) in enumerate([(128, 128), (96, 120)]):
        paths.append(str(root / f'tile_{i}.png'))
        cv2.imwrite(paths[-1], rng.integers(0, 256, (h, w, 3),
                                            dtype=np.uint8))
    return cfg, str(ckpt), paths


def test_expression_is_required(setup):
    cfg, ckpt, _ = setup
    adapter = get_task_adapter(init_model(cfg, ckpt))
    assert adapter.task == 'referring'
    with pytest.raises(ValueError, match='non-empty `expression`'):
        adapter.add_inputs(dict(img_path='x.png'), None)
    with pytest.raises(ValueError, match='non-empty `expression`'):
        adapter.add_inputs(dict(img_path='x.png'), dict(expression=' '))


def test_scripted_answer_to_masks_and_files(setup, tmp_path, monkeypatch):
    cfg, ckpt, paths = setup
    inferencer = MMPathSegInferencer(cfg, ckpt, show_progress=False)
    mllm = inferencer.model.mllm
    tok = mllm.tokenizer
    answer = tok.encode(' sure , tumor [SEG] , necrosis [REJ] , stroma '
                        '[SEG] .', add_special_tokens=False) + [
                            tok.eos_token_id]
    prompts = []

    def generate(clip, prompt, max_new_tokens):
        prompts.append(tok.decode(prompt[0]))
        return torch.cat([prompt, torch.tensor([answer])], 1)

    monkeypatch.setattr(mllm, 'generate', generate)
    out = inferencer(
        [dict(img=p, expression=EXPRESSION) for p in paths],
        out_dir=str(tmp_path),
        export_formats=('png', 'summary'),
        return_vis=True)
    assert all(EXPRESSION in p for p in prompts)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'tile_0_ref_mask_0.png', 'tile_0_ref_mask_1.png',
        'tile_0_summary.json', 'tile_1_ref_mask_0.png',
        'tile_1_ref_mask_1.png', 'tile_1_summary.json', 'vis'
    ]
    for k, (pred, shape) in enumerate(
            zip(out['predictions'], [(128, 128), (96, 120)])):
        assert pred['masks'].shape == (2, ) + shape
        assert pred['num_rejected'] == 1 and not pred['rejected']
        assert '[REJ]' in pred['answer'] and pred['expression'] == EXPRESSION
        summary = json.load(open(tmp_path / f'tile_{k}_summary.json'))
        assert summary['foreground_pixels'] == [
            int(m.sum()) for m in pred['masks']
        ]
        png = cv2.imread(str(tmp_path / f'tile_{k}_ref_mask_1.png'),
                         cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(png > 0, pred['masks'][1])
        vis = out['visualization'][k]
        assert vis.shape[1] == shape[1] and vis.shape[0] > shape[0]


def test_rejection_and_real_generation(setup, tmp_path, monkeypatch):
    cfg, ckpt, paths = setup
    inferencer = MMPathSegInferencer(cfg, ckpt, show_progress=False)
    mllm = inferencer.model.mllm
    tok = mllm.tokenizer
    answer = tok.encode(' sure , tumor [REJ] .', add_special_tokens=False)
    monkeypatch.setattr(
        mllm, 'generate', lambda clip, prompt, n: torch.cat(
            [prompt, torch.tensor([answer])], 1))
    pred = inferencer(dict(img=paths[1], expression='the tumor'),
                      out_dir=str(tmp_path))['predictions'][0]
    assert pred['rejected'] and pred['masks'].shape == (0, 96, 120)
    summary = json.load(open(tmp_path / 'tile_1_summary.json'))
    assert summary['rejected'] and summary['num_masks'] == 0
    monkeypatch.undo()
    # The real greedy answer of the random model runs end to end: one mask
    # per [SEG] it generated.
    pred = inferencer(dict(img=paths[0], expression=EXPRESSION),
                      return_datasamples=True)['predictions'][0]
    num_seg = sum(pred.metainfo['pred_text'].count(t)
                  for t in mllm.tokenizer.convert_ids_to_tokens(
                      list(mllm.seg_ids)))
    assert pred.pred_masks.shape == (num_seg, 128, 128)
