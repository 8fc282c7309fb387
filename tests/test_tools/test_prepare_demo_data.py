# Copyright (c) mmpathseg contributors. All rights reserved.
"""prepare_demo_data.py finds a config's data roots and generates the demo
datasets among them once."""
import pytest

from tools.misc import prepare_demo_data as prep


def test_data_roots_of_demo_configs(repo_root):
    from mmengine.config import Config
    ltse = Config.fromfile(
        str(repo_root / 'configs/demo/ltse-tiny_tissue-ref-demo.py'))
    assert prep.data_roots(ltse) == [
        'data/tissue_ref_demo_256', 'data/tissue_ref_demo'
    ]
    for config in sorted((repo_root / 'configs/demo').glob('*.py')):
        roots = prep.data_roots(Config.fromfile(str(config)))
        assert roots, config
        for root in roots:
            name = root.rstrip('/').split('/')[-1]
            assert name in prep.DEMO_GENERATORS, (config, root)


def test_generates_once_then_reuses(tmp_path, monkeypatch, capsys,
                                    repo_root):
    small = prep.DemoGenerator('tools.misc.generate_ct_demo_data',
                               ('--num-train', '1', '--num-test', '1'),
                               'demo_info.json')
    monkeypatch.setitem(prep.DEMO_GENERATORS, 'ct_demo', small)
    root = tmp_path / 'ct_demo'
    options = [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]
    config = str(repo_root / 'configs/demo/syncsam-tiny_ct-demo.py')
    assert prep.main([config, '--cfg-options'] + options) == {
        str(root): 'generated'
    }
    assert (root / 'demo_info.json').is_file()
    assert prep.main([config, '--cfg-options'] + options) == {
        str(root): 'reused'
    }
    assert f'{root}: reused' in capsys.readouterr().out


def test_other_roots_must_exist(tmp_path):
    (tmp_path / 'pannuke').mkdir()
    assert prep.prepare(str(tmp_path / 'pannuke')) == 'present'
    with pytest.raises(FileNotFoundError, match='data/README.md'):
        prep.prepare(str(tmp_path / 'conic'))
