# Copyright (c) mmpathseg contributors. All rights reserved.
"""One guide stage's fusion: visual self-attention, then cross-attention from
the visual tokens to the projected text tokens (Ariadne's Thread, MLMoE)."""
import math
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import ConfigType, OptMultiConfig


def sinusoidal_positions(length: int, channels: int,
                         device=None) -> Tensor:
    """Fixed 1-D sine/cosine encoding (Vaswani et al.), ``(length, C)``:
    even channels ``sin(p / 10000^(2i/C))``, odd channels ``cos``."""
    position = torch.arange(length, device=device,
                            dtype=torch.float32)[:, None]
    div = torch.exp(
        torch.arange(0, channels, 2, device=device, dtype=torch.float32) *
        (-math.log(10000.0) / channels))
    pe = torch.zeros(length, channels, device=device)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)[:, :channels // 2]
    return pe


class GuideLayer(BaseModule):
    """Text-guided fusion of ``(B, N, C)`` visual tokens.

    1. ``x = x + LN_sa(SA(q = k = LN1(x) + PE_v, v = LN1(x)))`` (1 head);
    2. ``t', g = text_projection(t, x)`` (``(B, L_out, C)``, gate or None);
    3. ``x = x + alpha * LN_ca(CA(q = LN2(x) + PE_v, k = t' + PE_t, v =
       t'))`` (``ca_heads`` heads), ``alpha`` a learnable scalar.

    Positional encodings are fixed sinusoids over the flattened token index,
    added to queries and keys only; there is no FFN and no key padding mask
    (as in the reference). Step 3 is MLMoE's ``f_m = f'_v + LN(MCA(f'_t,
    f'_v))``.

    Args:
        channels (int): ``C``.
        text_projection (dict): ``GuideTextProjection`` or ``TextMoE``
            config; ``out_channels`` is set to ``channels``.
        sa_heads (int): Self-attention heads. Defaults to 1.
        ca_heads (int): Cross-attention heads. Defaults to 4.
        alpha_init (float): Initial cross-attention scale. Defaults to 1.421
            (the reference value).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 channels: int,
                 text_projection: ConfigType,
                 sa_heads: int = 1,
                 ca_heads: int = 4,
                 alpha_init: float = 1.421,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if channels % ca_heads:
            raise ValueError(f'GuideLayer: channels ({channels}) must be '
                             f'divisible by ca_heads ({ca_heads}).')
        self.norm1 = nn.LayerNorm(channels)
        self.self_attn = nn.MultiheadAttention(
            channels, sa_heads, batch_first=True)
        self.self_attn_norm = nn.LayerNorm(channels)
        self.norm2 = nn.LayerNorm(channels)
        self.cross_attn = nn.MultiheadAttention(
            channels, ca_heads, batch_first=True)
        self.cross_attn_norm = nn.LayerNorm(channels)
        self.alpha = nn.Parameter(torch.tensor(float(alpha_init)))
        self.text_projection = MODELS.build(
            dict(text_projection, out_channels=channels))

    def forward(self,
                x: Tensor,
                text: Tensor,
                text_mask: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Fuse.

        Args:
            x (Tensor): ``(B, N, C)`` visual tokens (row-major).
            text (Tensor): ``(B, L, D)`` text features.
            text_mask (Tensor, optional): ``(B, L)``, used by gates only.

        Returns:
            dict: ``fused`` ``(B, N, C)`` and ``gates`` ``(B, E)`` or None.
        """
        pe_v = sinusoidal_positions(x.shape[1], x.shape[2], x.device)
        v = self.norm1(x)
        qk = v + pe_v
        x = x + self.self_attn_norm(
            self.self_attn(qk, qk, v, need_weights=False)[0])
        t, gates = self.text_projection(text, x, text_mask)
        pe_t = sinusoidal_positions(t.shape[1], t.shape[2], t.device)
        q = self.norm2(x) + pe_v
        ca = self.cross_attn(q, t + pe_t, t, need_weights=False)[0]
        x = x + self.alpha * self.cross_attn_norm(ca)
        return dict(fused=x, gates=gates)
