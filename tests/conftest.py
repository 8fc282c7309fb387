# Copyright (c) mmpathseg contributors. All rights reserved.
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
