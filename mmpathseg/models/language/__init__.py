# Copyright (c) mmpathseg contributors. All rights reserved.
from .text_encoder import BertTextEncoder  # noqa: E402
from .virtual_prompt import VirtualPrompt  # noqa: E402

__all__ = ['BertTextEncoder', 'VirtualPrompt']
