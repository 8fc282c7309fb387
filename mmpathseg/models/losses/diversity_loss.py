# Copyright (c) mmpathseg contributors. All rights reserved.
"""MLMoE's gate diversity loss ``E_x[H(g)] - H(E_x[g])``."""
from typing import Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmpathseg.registry import MODELS


def gate_entropy(p: Tensor, eps: float = 1e-8) -> Tensor:
    """Entropy (nats) over the last axis: ``-sum p log(p + eps)``."""
    return -(p * torch.log(p + eps)).sum(dim=-1)


def gate_diversity(gates: Tensor, eps: float = 1e-8) -> Tensor:
    """``mean_b H(g_b) - H(mean_b g_b)`` of ``(B, E)`` gate weights.

    Always in ``[-log E, 0]``: 0 when every sample has the same gate (or
    B = 1), ``-log E`` when each gate is one-hot and the experts are used
    equally often. Minimising it asks for confident routing per sample and
    balanced use of the experts over the batch.
    """
    if gates.dim() != 2:
        raise ValueError('gate_diversity expects (B, E) gate weights, got '
                         f'shape {tuple(gates.shape)}.')
    return gate_entropy(gates, eps).mean() - gate_entropy(
        gates.mean(dim=0), eps)


@MODELS.register_module()
class GateDiversityLoss(nn.Module):
    """Diversity loss over one or several gates (one per MoE stage),
    averaged over the stages, computed on the training batch.

    Args:
        loss_weight (float): Defaults to 1.0 (the paper's ``L = Dice + CE +
            L_div``).
        eps (float): Inside the logarithm. Defaults to 1e-8.
        loss_name (str): Defaults to ``'loss_div'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 eps: float = 1e-8,
                 loss_name: str = 'loss_div') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, gates: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """``(B, E)`` or a list of them -> a scalar."""
        if isinstance(gates, Tensor):
            gates = [gates]
        if not gates:
            raise ValueError('GateDiversityLoss: no gate weights given.')
        value = torch.stack([gate_diversity(g, self.eps) for g in gates])
        return self.loss_weight * value.mean()
