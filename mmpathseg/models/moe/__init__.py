# Copyright (c) mmpathseg contributors. All rights reserved.
from .adaptive_expert_mixture import AdaptiveExpertMixture
from .aem_gate import AEMGate, top_k_renormalise
from .sam_expert_decoder import SAMExpertDecoder

__all__ = [
    'AdaptiveExpertMixture', 'AEMGate', 'top_k_renormalise',
    'SAMExpertDecoder'
]
