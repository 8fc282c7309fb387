# Copyright (c) mmpathseg contributors. All rights reserved.
"""cfg-options that shrink full-size configs for ``tests/test_configs.py``.

Keys are globs on the config path relative to the repository root; values are
``--cfg-options``-style dicts merged into the config before the model is
built. Every key must match at least one config (the test checks it).
"""
SHRINK = {}
