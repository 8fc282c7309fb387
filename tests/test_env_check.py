# Copyright (c) mmpathseg contributors. All rights reserved.
import importlib.util
from importlib import metadata

import pytest

from mmpathseg import _env_check


def test_stack_is_supported():
    _env_check.check_stack()


def test_missing_ops_message(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        _env_check.importlib.util, 'find_spec',
        lambda name, *a: None if name == 'mmcv._ext' else real_find_spec(
            name, *a))
    with pytest.raises(ImportError, match=r'mmcv\._ext.*MMCV_WITH_OPS=1'):
        _env_check.check_stack()


def test_unsupported_version_message(monkeypatch):
    real_version = metadata.version
    monkeypatch.setattr(
        _env_check.metadata, 'version',
        lambda name: '2.2.0' if name == 'mmcv' else real_version(name))
    with pytest.raises(ImportError,
                       match=r'mmcv==2\.2\.0 is installed.*2\.0\.0 <= mmcv '
                       r'< 2\.2\.0'):
        _env_check.check_stack()


def test_mmcv_lite_message(monkeypatch):
    real_version = metadata.version

    def fake_version(name):
        if name == 'mmcv':
            raise metadata.PackageNotFoundError(name)
        if name == 'mmcv-lite':
            return '2.1.0'
        return real_version(name)

    monkeypatch.setattr(_env_check.metadata, 'version', fake_version)
    with pytest.raises(ImportError, match='mmcv-lite 2.1.0 is installed'):
        _env_check.check_stack()
