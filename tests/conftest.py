# Copyright (c) mmpathseg contributors. All rights reserved.
import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Tools are scripts, not a package: make `import tools.train` work.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# No network at test time.
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope='session')
def shared_fixtures() -> Path:
    """Real-data fixtures next to the checkout; skip when absent."""
    root = Path(os.environ.get('MMPATHSEG_FIXTURES',
                               REPO_ROOT.parent / 'shared' / 'fixtures'))
    if not root.is_dir():
        pytest.skip(f'real-data fixtures not found at {root} (set '
                    'MMPATHSEG_FIXTURES to the shared/fixtures folder)')
    return root


def load_test_module(name: str):
    """``tests/data/<name>.py`` as a module (the folder is not a package:
    mmseg installs its own top-level ``tests``)."""
    spec = importlib.util.spec_from_file_location(
        name, REPO_ROOT / 'tests' / 'data' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def fx():
    """tests/data/inference_fixtures.py as a module."""
    return load_test_module('inference_fixtures')


# Folders whose tests run many tiny models: one intra-op thread each (two
# threads per process fight over the cores of a shared 2-core machine).
ONE_THREAD_DIRS = ('test_apis', 'test_exports', 'test_visualization')


@pytest.fixture(autouse=True, scope='module')
def _one_thread(request):
    if request.node.path.parent.name not in ONE_THREAD_DIRS:
        yield
        return
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
