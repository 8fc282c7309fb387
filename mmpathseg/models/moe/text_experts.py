# Copyright (c) mmpathseg contributors. All rights reserved.
"""MLMoE's mixture of text experts: the text projection of a guide-decoder
stage, split into N experts routed by a gate over text and visual features."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig
from .gates import TemperatureGate


def masked_mean(tokens: Tensor, mask: Optional[Tensor]) -> Tensor:
    """Mean over the token axis of ``(B, L, C)``, over ``mask == 1`` tokens
    when a ``(B, L)`` mask is given."""
    if mask is None:
        return tokens.mean(dim=1)
    mask = mask.to(tokens.dtype).unsqueeze(-1)
    return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class TextExpert(nn.Module):
    """``f_t^i = ReLU(Conv1x1(f_t W_i))``: a Linear over the feature axis
    (``W_i``, D -> C) then a 1x1 convolution over the token axis (L ->
    L_out, the tokens act as channels, as in Ariadne's projection)."""

    def __init__(self, text_channels: int, out_channels: int,
                 text_len: int, out_len: int) -> None:
        super().__init__()
        self.proj = nn.Linear(text_channels, out_channels)
        self.tokens = nn.Conv1d(text_len, out_len, kernel_size=1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, text: Tensor) -> Tensor:
        """``(B, L, D)`` -> ``(B, L_out, C)``."""
        return self.act(self.tokens(self.proj(text)))


@MODELS.register_module()
class TextMoE(BaseModule):
    """Mixture of text experts with a temperature gate (MLMoE).

    ``g = softmax(Linear([mean(f_t); mean(f_v)]) / tau)`` (one gate per
    sample and stage; text pooled over its attention mask, visual tokens
    pooled over all positions), ``f'_t = sum_i g_i f_t^i``. The gate weights
    are returned for the diversity loss.

    Args:
        text_channels (int): Text feature width ``D`` (768 for CXR-BERT).
        out_channels (int): Visual width ``C`` of the stage.
        text_len (int): Input text tokens ``L`` (24).
        out_len (int): Output text tokens ``L_out`` (24 / 12 / 9 in the
            three stages).
        num_experts (int): ``N``. Defaults to 4.
        use_visual (bool): Feed the pooled visual tokens to the gate. False
            gives the "w/o f_v" ablation (gate on text only). Defaults to
            True.
        init_temperature (float): Initial ``tau``. Defaults to 1.0.
        learnable_temperature (bool): False is the "w/o tau" ablation.
            Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 text_channels: int,
                 out_channels: int,
                 text_len: int,
                 out_len: int,
                 num_experts: int = 4,
                 use_visual: bool = True,
                 init_temperature: float = 1.0,
                 learnable_temperature: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.use_visual = use_visual
        self.experts = nn.ModuleList(
            TextExpert(text_channels, out_channels, text_len, out_len)
            for _ in range(num_experts))
        gate_in = text_channels + (out_channels if use_visual else 0)
        self.gate = TemperatureGate(
            gate_in,
            num_experts,
            init_temperature=init_temperature,
            learnable_temperature=learnable_temperature)

    @property
    def num_experts(self) -> int:
        return len(self.experts)

    def forward(self,
                text: Tensor,
                visual: Tensor,
                text_mask: Optional[Tensor] = None
                ) -> Tuple[Tensor, Optional[Tensor]]:
        """Mix the experts.

        Args:
            text (Tensor): ``(B, L, D)`` text token features.
            visual (Tensor): ``(B, N, C)`` self-attended visual tokens.
            text_mask (Tensor, optional): ``(B, L)``, 1 for real tokens.

        Returns:
            tuple: ``(B, L_out, C)`` mixed text and ``(B, E)`` gate weights.
        """
        pooled = masked_mean(text, text_mask)
        if self.use_visual:
            pooled = torch.cat([pooled, visual.mean(dim=1)], dim=-1)
        gates = self.gate(pooled)
        experts = torch.stack([e(text) for e in self.experts], dim=1)
        mixed = (gates[:, :, None, None] * experts).sum(dim=1)
        return mixed, gates
