# Copyright (c) mmpathseg contributors. All rights reserved.
import importlib.util
from pathlib import Path

import pytest
import torch

_FIXTURES = Path(__file__).resolve().parents[1] / 'data' / \
    'inference_fixtures.py'


@pytest.fixture(scope='session')
def fx():
    """tests/data/inference_fixtures.py as a module."""
    spec = importlib.util.spec_from_file_location('inference_fixtures',
                                                  _FIXTURES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    """Tiny models on a shared 2-core machine: one intra-op thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
