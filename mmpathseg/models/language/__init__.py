# Copyright (c) mmpathseg contributors. All rights reserved.
from .mllm_seg import LlavaSegMLLM
from .seg_token_utils import (gather_slot_states, lookup_token_ids,
                              predicted_rejections, seg_token_names,
                              slot_positions)
from .text_encoder import BertTextEncoder
from .tokenizer import build_referring_tokenizer, task_token_ids
from .virtual_prompt import VirtualPrompt

__all__ = [
    'BertTextEncoder', 'VirtualPrompt', 'LlavaSegMLLM',
    'build_referring_tokenizer', 'task_token_ids', 'seg_token_names',
    'lookup_token_ids', 'slot_positions', 'gather_slot_states',
    'predicted_rejections'
]
