# Copyright (c) mmpathseg contributors. All rights reserved.
from .cellvit_head import CellViTHead
from .sam_mask_decoder import SAMMaskDecoder
from .sam_med_token_decoder import MedTokenMaskDecoder
from .sam_prompt_encoder import SAMPromptEncoder

__all__ = [
    'CellViTHead', 'SAMPromptEncoder', 'SAMMaskDecoder', 'MedTokenMaskDecoder'
]
