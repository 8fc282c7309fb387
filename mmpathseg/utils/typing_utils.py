# Copyright (c) mmpathseg contributors. All rights reserved.
"""Typed aliases for constructor signatures, re-exported from mmseg so that
configs of both packages read the same."""
from mmseg.utils.typing_utils import (ConfigType, ForwardResults,
                                      MultiConfig, OptConfigType,
                                      OptMultiConfig, OptSampleList,
                                      SampleList, TensorDict, TensorList)

__all__ = [
    'ConfigType', 'OptConfigType', 'MultiConfig', 'OptMultiConfig',
    'SampleList', 'OptSampleList', 'TensorDict', 'TensorList',
    'ForwardResults'
]
