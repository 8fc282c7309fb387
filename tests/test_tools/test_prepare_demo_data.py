# Copyright (c) mmpathseg contributors. All rights reserved.
"""prepare_demo_data.py finds a config's data roots and generates the demo
datasets among them once."""
import pytest

from tools.misc import prepare_demo_data as prep


def test_data_roots_of_demo_configs(repo_root):
    from mmengine.config import Config
    ltse = Config.fromfile(
        str(repo_root / 'configs/demo/ltse-tiny_tissue-ref-demo.py'))
    assert prep.data_roots(ltse) == ['data/tissue_ref_demo_256']
    generator = prep.DEMO_GENERATORS['tissue_ref_demo_256']
    # The command the config's header gives.
    header = (repo_root / 'configs/demo/ltse-tiny_tissue-ref-demo.py'
              ).read_text().split('\n\n')[0]
    words = [w for w in header.split() if w not in ('#', '\\')]
    assert ' '.join(generator.args) in ' '.join(words)


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


def test_refuses_data_generated_with_other_settings(tmp_path, monkeypatch):
    root = tmp_path / 'tissue_ref_demo_256'
    root.mkdir()
    (root / 'info.json').write_text(
        '{"counts": {"train": {"images": 256}, "val": {"images": 16}}}')
    with pytest.raises(ValueError, match='counts.val.images is 16'):
        prep.prepare(str(root))
