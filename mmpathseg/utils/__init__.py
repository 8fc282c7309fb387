# Copyright (c) mmpathseg contributors. All rights reserved.
from .registry_hints import (UnknownTypeError, explain_missing_type,
                             registry_hints)
from .set_env import register_all_modules

__all__ = [
    'register_all_modules', 'registry_hints', 'explain_missing_type',
    'UnknownTypeError'
]
