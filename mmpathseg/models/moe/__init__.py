# Copyright (c) mmpathseg contributors. All rights reserved.
from .gates import TemperatureGate
from .text_experts import TextMoE

__all__ = ['TemperatureGate', 'TextMoE']
