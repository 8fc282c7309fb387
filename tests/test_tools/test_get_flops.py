# Copyright (c) mmpathseg contributors. All rights reserved.
"""get_flops.py on the demo configs: FLOPs of a known layer by hand, the
attention rule, and parameter counts shared with count_params.py."""
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
