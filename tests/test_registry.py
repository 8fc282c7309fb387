# Copyright (c) mmpathseg contributors. All rights reserved.
import importlib.metadata

import mmseg.registry
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope

import mmpathseg.registry as registry
from mmpathseg.utils import (UnknownTypeError, explain_missing_type,
                             register_all_modules, registry_hints)


@pytest.fixture(autouse=True)
def _mmpathseg_scope():
    init_default_scope('mmpathseg')


@pytest.mark.parametrize('name', registry.__all__)
def test_every_node_is_a_child_of_mmseg(name):
    node = getattr(registry, name)
    assert node.scope == 'mmpathseg'
    assert node.parent is getattr(mmseg.registry, name)
    # The parent's subpackage first (so unprefixed mmseg types resolve), then
    # ours.
    assert any(loc.startswith('mmpathseg.') for loc in node._locations)
    for location in node._locations:
        importlib.import_module(location)


def test_default_runtime_sets_scope(repo_root):
    cfg = Config.fromfile(repo_root / 'configs/_base_/default_runtime.py')
    assert cfg.default_scope == 'mmpathseg'


def test_mmseg_types_resolve_unprefixed():
    head = registry.MODELS.build(
        dict(type='FCNHead', in_channels=8, channels=4, num_classes=3))
    assert type(head).__module__.startswith('mmseg.')


def test_mmpretrain_types_resolve_with_prefix():
    # Needs `import mmpretrain.models`, which fails with transformers >= 4.52:
    # requirements/runtime.txt pins transformers 4.51.3 for that reason.
    version = importlib.metadata.version('transformers')
    assert tuple(map(int, version.split('.')[:2])) < (4, 52), version
    backbone = registry.MODELS.build(
        dict(type='mmpretrain.ConvNeXt', arch='atto', out_indices=(0, 3)))
    assert type(backbone).__name__ == 'ConvNeXt'


def test_unknown_type_names_type_registry_matches_and_plugins():
    with pytest.raises(UnknownTypeError) as info:
        with registry_hints():
            registry.MODELS.build(
                dict(type='FCNHaed', in_channels=8, channels=4,
                     num_classes=3))
    message = str(info.value)
    assert 'Unknown type "FCNHaed"' in message
    assert 'mmpathseg::model' in message
    assert 'mmseg::model' in message  # the parent searched after ours
    assert 'Did you mean: FCNHead' in message
    assert 'custom_imports' in message


def test_unknown_nested_type_is_explained():
    # mmengine re-raises nested misses as "class `X` in file: <miss>".
    message = ('class `EncoderDecoder` in mmseg/models/segmentors/'
               'encoder_decoder.py: UNetz is not in the mmpathseg::model '
               'registry. Please check whether the value of `UNetz` is '
               'correct or it was registered as expected.')
    hint = explain_missing_type(message)
    assert 'Unknown type "UNetz"' in hint
    assert 'UNet' in hint


def test_other_key_errors_pass_through():
    with pytest.raises(KeyError) as info:
        with registry_hints():
            raise KeyError('plain missing key')
    assert not isinstance(info.value, UnknownTypeError)


def test_custom_imports_plugin(tmp_path, monkeypatch):
    plugin = tmp_path / 'my_plugin.py'
    plugin.write_text(
        'import torch.nn as nn\n'
        'from mmpathseg.registry import MODELS\n\n\n'
        '@MODELS.register_module()\n'
        'class MyTinyNeck(nn.Identity):\n'
        '    pass\n')
    cfg_file = tmp_path / 'plugin_cfg.py'
    cfg_file.write_text(
        "custom_imports = dict(imports=['my_plugin'], "
        'allow_failed_imports=False)\n'
        "model = dict(type='MyTinyNeck')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = Config.fromfile(cfg_file)  # performs the custom import
    neck = registry.MODELS.build(cfg.model)
    assert type(neck).__name__ == 'MyTinyNeck'


def test_register_all_modules_sets_scope():
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'mmpathseg'
