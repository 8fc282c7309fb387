# Copyright (c) mmpathseg contributors. All rights reserved.
from .checkpoint import (UnsafeCheckpointError, setup_checkpoint_io,
                         trust_checkpoint)
from .registry_hints import (UnknownTypeError, explain_missing_type,
                             registry_hints)
from .set_env import register_all_modules

__all__ = [
    'register_all_modules', 'registry_hints', 'explain_missing_type',
    'UnknownTypeError', 'setup_checkpoint_io', 'trust_checkpoint',
    'UnsafeCheckpointError'
]
