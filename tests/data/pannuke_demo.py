# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiny copies of the nuclei demo dataset (PanNuke release layout), made by
``tools/misc/generate_demo_data.py`` for tests."""
import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / 'tools' / 'misc' / 'generate_demo_data.py'


def load_generator():
    """Import the generator script as a module (tools are not a package)."""
    spec = importlib.util.spec_from_file_location('generate_demo_data',
                                                  GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_pannuke_demo(root, num_per_fold: int = 2, seed: int = 0,
                      num_folds: int = 3) -> Path:
    """Write ``num_folds`` folds of ``num_per_fold`` tiles under ``root``
    and return it as a ``Path``."""
    load_generator().write_dataset(
        str(root), num_per_fold=num_per_fold, seed=seed, num_folds=num_folds)
    return Path(root)
