# Copyright (c) mmpathseg contributors. All rights reserved.
from .bottleneck_adapter import BottleneckAdapter
from .cellvit_head import CellViTHead
from .guide_decoder import GuideDecoderHead
from .guide_text_projection import GuideTextProjection
from .sam_mask_decoder import SAMMaskDecoder
from .sam_med_token_decoder import MedTokenMaskDecoder
from .sam_prompt_encoder import SAMPromptEncoder

__all__ = [
    'CellViTHead', 'SAMPromptEncoder', 'SAMMaskDecoder',
    'MedTokenMaskDecoder', 'GuideDecoderHead', 'GuideTextProjection',
    'BottleneckAdapter'
]
