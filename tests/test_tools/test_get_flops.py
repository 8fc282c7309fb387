# Copyright (c) mmpathseg contributors. All rights reserved.
"""get_flops.py on the demo configs: FLOPs of a known layer by hand, the
attention rule, and parameter counts shared with count_params.py."""
import pytest
import torch

from tools.analysis_tools.count_params import build_on_meta, count_parameters
from tools.analysis_tools.get_flops import get_flops, main, sdpa_flop_jit


def test_demo_unet(repo_root, capsys):
    config = str(repo_root / 'configs/demo/unet-tiny_pannuke-demo.py')
    res = main([config, '--shape', '32'])
    total, trainable, _ = count_parameters(build_on_meta(config), 0)
    assert (res['params'], res['trainable_params']) == (total, trainable)
    assert res['shape'] == (32, 32)
    out = capsys.readouterr().out
    assert f'{res["flops"]:,}' in out and 'Params:' in out
    # FLOPs scale with the area of a fully convolutional model.
    bigger = get_flops(config, (64, 64))
    assert bigger['flops'] == 4 * res['flops']


def test_demo_cellvta_counts_attention(repo_root):
    config = str(repo_root / 'configs/demo/cellvta-tiny_pannuke-demo.py')
    res = get_flops(config, (64, 64))
    assert res['params'] == res['trainable_params'] > 0
    assert 'aten::scaled_dot_product_attention' not in res['unsupported']
    assert '| backbone |' in res['table']


def test_sdpa_rule_by_hand():
    q = torch.zeros(2, 4, 64, 16)
    k = torch.zeros(2, 4, 32, 16)
    v = torch.zeros(2, 4, 32, 8)
    graph = torch.jit.trace(
        lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(
            q, k, v), (q, k, v))
    node = [n for n in graph.graph.nodes()
            if n.kind() == 'aten::scaled_dot_product_attention'][0]
    inputs = list(node.inputs())
    # Q K^T: 2*4*64*32*16, A V: 2*4*64*32*8
    assert sdpa_flop_jit(inputs, list(node.outputs())) == \
        2 * 4 * 64 * 32 * (16 + 8)


def test_models_that_need_samples_use_the_first_one(repo_root, tmp_path,
                                                    fx):
    from tools.misc.generate_ct_demo_data import main as make_ct
    from tools.misc.generate_tissue_ref_demo_data import main as make_ref
    make_ct(['--out', str(tmp_path / 'ct'), '--num-train', '1',
             '--num-test', '1'])
    make_ref(['--out', str(tmp_path / 'ref'), '--num-train', '1',
              '--num-val', '1'])
    syncsam = str(repo_root / 'configs/demo/syncsam-tiny_ct-demo.py')
    res = get_flops(
        syncsam, cfg_options=fx.demo_loader_options(tmp_path / 'ct'))
    # The demo pipeline resizes the long side to 128 px.
    assert max(res['shape']) == 128 and res['flops'] > 0
    assert '| image_encoder |' in res['table']
    ltse = str(repo_root / 'configs/demo/ltse-tiny_tissue-ref-demo.py')
    res = get_flops(
        ltse, cfg_options=fx.demo_loader_options(tmp_path / 'ref'),
        split='val')
    assert res['shape'] == (128, 128) and res['flops'] > 0
    # Without the data the error says what to do.
    with pytest.raises(FileNotFoundError, match='Generate or link the data'):
        get_flops(
            ltse, cfg_options=fx.demo_loader_options(tmp_path / 'absent'),
            split='val')
