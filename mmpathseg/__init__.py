# Copyright (c) mmpathseg contributors. All rights reserved.
"""mmpathseg: a configuration-driven model zoo for pathology and medical
segmentation on mmengine / mmsegmentation.

Importing the package only checks that the OpenMMLab stack is usable; every
component is imported lazily through the registries in
:mod:`mmpathseg.registry`.
"""
from ._env_check import check_stack
from .version import __version__, version_info

check_stack()

__all__ = ['__version__', 'version_info']
