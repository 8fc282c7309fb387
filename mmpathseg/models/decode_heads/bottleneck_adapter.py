# Copyright (c) mmpathseg contributors. All rights reserved.
"""Bottleneck adapter on decoder tokens (MLMoE's text-absent stage)."""
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig


@MODELS.register_module()
class BottleneckAdapter(BaseModule):
    """``x + Up(GELU(Down(LN(x))))`` on ``(B, N, C)`` tokens (Houlsby
    style). ``Up`` starts at zero, so a new adapter is the identity and the
    loaded model's output is unchanged until it trains.

    Args:
        channels (int): ``C``.
        ratio (float): Bottleneck width is ``max(1, int(C * ratio))``.
            Defaults to 0.25 (the paper gives no width).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 channels: int,
                 ratio: float = 0.25,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden = max(1, int(channels * ratio))
        self.norm = nn.LayerNorm(channels)
        self.down = nn.Linear(channels, hidden)
        self.act = nn.GELU()
        self.up = nn.Linear(hidden, channels)
        self._zero_up()

    def _zero_up(self) -> None:
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_up()

    def forward(self, x: Tensor) -> Tensor:
        return x + self.up(self.act(self.down(self.norm(x))))
