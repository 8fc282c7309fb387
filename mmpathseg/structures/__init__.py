# Copyright (c) mmpathseg contributors. All rights reserved.
from .referring_data_sample import ReferringDataSample

__all__ = ['ReferringDataSample']
