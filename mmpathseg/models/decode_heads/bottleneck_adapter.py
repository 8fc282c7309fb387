# Copyright (c) mmpathseg contributors. All rights reserved.
"""Bottleneck adapter on decoder tokens (MLMoE's text-absent stage)."""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptConfigType, OptMultiConfig


@MODELS.register_module()
class BottleneckAdapter(BaseModule):
    """``x + Up(act(Down(norm(x))))`` on ``(B, N, C)`` tokens.

    MLMoE writes it as ``f + Phi_u(Phi_d(f))`` with two linear projections
    (down to a bottleneck, back up) and a residual: the defaults (no norm, no
    activation) follow that; ``with_norm=True, act_cfg=dict(type='GELU')``
    gives a Houlsby-style adapter. ``Up`` starts at zero, so a new adapter is
    the identity and the loaded model's output is unchanged until it trains.

    Args:
        channels (int): ``C``.
        ratio (float): Bottleneck width is ``max(1, int(C * ratio))``.
            Defaults to 0.25 (the paper gives no width).
        with_norm (bool): LayerNorm before ``Down``. Defaults to False.
        act_cfg (dict, optional): Activation between the projections.
            Defaults to None (linear, as the paper's formula).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 channels: int,
                 ratio: float = 0.25,
                 with_norm: bool = False,
                 act_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden = max(1, int(channels * ratio))
        self.norm: Optional[nn.Module] = nn.LayerNorm(
            channels) if with_norm else None
        self.down = nn.Linear(channels, hidden)
        self.act = build_activation_layer(
            act_cfg) if act_cfg is not None else nn.Identity()
        self.up = nn.Linear(hidden, channels)
        self._zero_up()

    def _zero_up(self) -> None:
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_up()

    def forward(self, x: Tensor) -> Tensor:
        """``(B, N, C)`` -> ``(B, N, C)``."""
        y = self.norm(x) if self.norm is not None else x
        return x + self.up(self.act(self.down(y)))
