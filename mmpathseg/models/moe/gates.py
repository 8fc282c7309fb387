# Copyright (c) mmpathseg contributors. All rights reserved.
"""Softmax gate with a learnable temperature (MLMoE's expert router)."""
import math

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig


@MODELS.register_module()
class TemperatureGate(BaseModule):
    """``g = softmax(Linear(x) / tau)`` with a learnable ``tau > 0``.

    ``tau`` is stored as ``log_tau`` so that it stays positive under any
    update (the paper does not say how it keeps tau positive). A small
    ``tau`` sharpens the gate towards one expert, a large one flattens it
    towards the uniform mix.

    Args:
        in_channels (int): Width of the gate input ``x``.
        num_experts (int): Number of experts ``E``.
        init_temperature (float): Initial ``tau``. Defaults to 1.0.
        learnable_temperature (bool): Train ``tau``. False freezes it at
            ``init_temperature`` (the "w/o tau" ablation with 1.0).
            Defaults to True.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_experts: int,
                 init_temperature: float = 1.0,
                 learnable_temperature: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_experts < 1:
            raise ValueError(f'TemperatureGate: num_experts must be >= 1, '
                             f'got {num_experts}.')
        if init_temperature <= 0:
            raise ValueError('TemperatureGate: init_temperature must be > 0, '
                             f'got {init_temperature}.')
        self.num_experts = num_experts
        self.fc = nn.Linear(in_channels, num_experts)
        log_tau = torch.tensor(math.log(init_temperature))
        if learnable_temperature:
            self.log_tau = nn.Parameter(log_tau)
        else:
            self.register_buffer('log_tau', log_tau)

    @property
    def temperature(self) -> Tensor:
        """The current ``tau`` (a 0-d tensor)."""
        return self.log_tau.exp()

    def forward(self, x: Tensor) -> Tensor:
        """``(B, in_channels)`` -> gate weights ``(B, E)``, rows sum to 1."""
        return torch.softmax(self.fc(x) / self.temperature, dim=-1)
