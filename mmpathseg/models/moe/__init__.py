# Copyright (c) mmpathseg contributors. All rights reserved.
from .adaptive_expert_mixture import AdaptiveExpertMixture
from .aem_gate import AEMGate, top_k_renormalise
from .gates import TemperatureGate
from .sam_expert_decoder import SAMExpertDecoder
from .text_experts import TextMoE

__all__ = [
    'TemperatureGate', 'TextMoE', 'AdaptiveExpertMixture', 'AEMGate',
    'top_k_renormalise', 'SAMExpertDecoder'
]
