# Copyright (c) mmpathseg contributors. All rights reserved.
"""tools/infer.py --text (text-guided models) and --prompts (promptable
models), with tiny random checkpoints of the demo configs."""
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import tools.infer as infer_tool
from mmpathseg.apis import init_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'data'))
from tiny_text_models import write_tokenizer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TEXT_CONFIG = str(REPO / 'configs/demo/mlmoe-tiny_xray-demo.py')
PROMPT_CONFIG = str(REPO / 'configs/demo/syncsam-tiny_ct-demo.py')
REPORT = 'Unilateral pulmonary infection, one infected area, left lung.'


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _checkpoint(config, path, options=None):
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    torch.manual_seed(0)
    torch.save(dict(state_dict=init_model(cfg).state_dict()), path)
    return str(path)


def _images(folder: Path, shapes):
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i, shape in enumerate(shapes):
        cv2.imwrite(str(folder / f'img_{i}.png'),
                    rng.integers(0, 256, shape, dtype=np.uint8))
    return folder


@pytest.fixture(scope='module')
def text_model(tmp_path_factory):
    root = tmp_path_factory.mktemp('text')
    tok = f'model.text_encoder.tokenizer={write_tokenizer(root / "tok")}'
    ckpt = _checkpoint(TEXT_CONFIG, root / 't.pth',
                       {'model.text_encoder.tokenizer': str(root / 'tok')})
    return ckpt, tok


def test_text_json_and_string(tmp_path, text_model):
    ckpt, tok = text_model
    images = _images(tmp_path / 'in', [(64, 64), (64, 64)])
    texts = tmp_path / 'texts.json'
    texts.write_text(json.dumps({'img_0.png': REPORT}))
    base = [TEXT_CONFIG, ckpt, str(images), '--cfg-options', tok]
    infer_tool.main(base[:3] + ['--out-dir', str(tmp_path / 'a'), '--text',
                                str(texts)] + base[3:])
    names = sorted(p.name for p in (tmp_path / 'a').iterdir())
    assert names == ['img_0_mask.png', 'img_0_summary.json',
                     'img_1_mask.png', 'img_1_summary.json', 'vis']
    s0 = json.load(open(tmp_path / 'a' / 'img_0_summary.json'))
    s1 = json.load(open(tmp_path / 'a' / 'img_1_summary.json'))
    assert (s0['has_text'], s0['text']) == (True, REPORT)
    assert (s1['has_text'], s1['text']) == (False, None)
    # One string for every image (matched by stem too).
    infer_tool.main(base[:3] + ['--out-dir', str(tmp_path / 'b'), '--text',
                                'bilateral pulmonary infection',
                                '--no-vis'] + base[3:])
    for k in range(2):
        summary = json.load(open(tmp_path / 'b' / f'img_{k}_summary.json'))
        assert summary['text'] == 'bilateral pulmonary infection'
    with pytest.raises(ValueError, match='--prompts is for promptable'):
        infer_tool.main(base[:3] + ['--out-dir', str(tmp_path / 'c'),
                                    '--prompts', str(texts)] + base[3:])


def test_prompts_json(tmp_path):
    ckpt = _checkpoint(PROMPT_CONFIG, tmp_path / 'p.pth')
    images = _images(tmp_path / 'in', [(96, 160, 3), (128, 128, 3)])
    prompts = tmp_path / 'prompts.json'
    prompts.write_text(json.dumps({
        'img_0.png': {'boxes': [[10, 10, 50, 60], [60, 20, 150, 90]]},
        'img_1': {'points': [[[64, 64], [10, 10]]],
                  'point_labels': [[1, 0]]}
    }))
    out = infer_tool.main([
        PROMPT_CONFIG, ckpt, str(images), '--out-dir',
        str(tmp_path / 'out'), '--prompts', str(prompts)
    ])
    assert out['num_inputs'] == 2
    names = sorted(p.name for p in (tmp_path / 'out').iterdir())
    assert names == ['img_0_mask_0.png', 'img_0_mask_1.png',
                     'img_0_masks.png', 'img_0_summary.json',
                     'img_1_mask_0.png', 'img_1_masks.png',
                     'img_1_summary.json', 'vis']
    s0 = json.load(open(tmp_path / 'out' / 'img_0_summary.json'))
    assert (s0['height'], s0['width'], s0['num_prompts']) == (96, 160, 2)
    assert s0['prompts'][1]['box'] == [60.0, 20.0, 150.0, 90.0]
    s1 = json.load(open(tmp_path / 'out' / 'img_1_summary.json'))
    assert s1['prompts'][0]['points'] == [[64.0, 64.0], [10.0, 10.0]]
    # Every image needs prompts; text is for another task.
    prompts.write_text(json.dumps({'img_0.png': {'boxes': [[1, 1, 9, 9]]}}))
    with pytest.raises(ValueError, match='no prompts for img_1.png'):
        infer_tool.main([PROMPT_CONFIG, ckpt, str(images), '--out-dir',
                         str(tmp_path / 'o2'), '--prompts', str(prompts)])
    with pytest.raises(ValueError, match='need --prompts'):
        infer_tool.main([PROMPT_CONFIG, ckpt, str(images), '--out-dir',
                         str(tmp_path / 'o3')])
    with pytest.raises(ValueError, match='--text is for text-guided'):
        infer_tool.main([PROMPT_CONFIG, ckpt, str(images), '--out-dir',
                         str(tmp_path / 'o4'), '--text', 'liver',
                         '--prompts', str(prompts)])


def test_expression(tmp_path):
    config = str(REPO / 'configs/demo/ltse-tiny_tissue-ref-demo.py')
    options = {'model.test_cfg.max_new_tokens': 4}
    ckpt = _checkpoint(config, tmp_path / 'r.pth', options)
    images = _images(tmp_path / 'in', [(64, 64, 3), (64, 80, 3)])
    exprs = tmp_path / 'exprs.json'
    exprs.write_text(json.dumps({'img_0.png': 'the tumor',
                                 'img_1': 'the stroma'}))
    base = [config, ckpt, str(images), '--cfg-options',
            'model.test_cfg.max_new_tokens=4']
    infer_tool.main(base[:3] + ['--out-dir', str(tmp_path / 'out'),
                                '--expression', str(exprs)] + base[3:])
    for k, expr in enumerate(['the tumor', 'the stroma']):
        summary = json.load(open(tmp_path / 'out' / f'img_{k}_summary.json'))
        assert summary['expression'] == expr
        assert summary['num_masks'] == len(summary['foreground_pixels'])
        assert len(list((tmp_path / 'out').glob(f'img_{k}_ref_mask_*'))) \
            == summary['num_masks']
    exprs.write_text(json.dumps({'img_0.png': 'the tumor'}))
    with pytest.raises(ValueError, match='no expression for img_1.png'):
        infer_tool.main(base[:3] + ['--out-dir', str(tmp_path / 'o2'),
                                    '--expression', str(exprs)] + base[3:])
    with pytest.raises(ValueError, match='need --expression'):
        infer_tool.main(base[:3] + ['--out-dir', str(tmp_path / 'o3')] +
                        base[3:])
