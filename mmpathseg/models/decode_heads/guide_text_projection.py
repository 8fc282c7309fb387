# Copyright (c) mmpathseg contributors. All rights reserved.
"""Ariadne's Thread per-stage text projection."""
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig


@MODELS.register_module()
class GuideTextProjection(BaseModule):
    """``Conv1d(L -> L_out, k=1)`` over the token axis, GELU, ``Linear(D ->
    C)``, LeakyReLU: the text projection of each Ariadne guide stage.

    Same interface as :class:`~mmpathseg.models.moe.TextMoE`, so a config
    swaps one for the other; it ignores the visual tokens and has no gate.

    Args:
        text_channels (int): ``D``.
        out_channels (int): ``C``.
        text_len (int): ``L``.
        out_len (int): ``L_out``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 text_channels: int,
                 out_channels: int,
                 text_len: int,
                 out_len: int,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.tokens = nn.Conv1d(text_len, out_len, kernel_size=1)
        self.act1 = nn.GELU()
        self.proj = nn.Linear(text_channels, out_channels)
        self.act2 = nn.LeakyReLU()

    def forward(self,
                text: Tensor,
                visual: Tensor,
                text_mask: Optional[Tensor] = None
                ) -> Tuple[Tensor, Optional[Tensor]]:
        """``(B, L, D)`` -> ``((B, L_out, C), None)``."""
        return self.act2(self.proj(self.act1(self.tokens(text)))), None
