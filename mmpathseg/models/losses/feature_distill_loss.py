# Copyright (c) mmpathseg contributors. All rights reserved.
"""L2 feature distillation (MLMoE's text-absent stage)."""
from typing import Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmpathseg.registry import MODELS


@MODELS.register_module()
class FeatureDistillLoss(nn.Module):
    """Mean squared error between student and (detached) teacher features,
    averaged over the given feature levels.

    Args:
        loss_weight (float): Defaults to 1.0 (the paper gives no weight).
        loss_name (str): Defaults to ``'loss_distill'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_distill') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, student: Union[Tensor, Sequence[Tensor]],
                teacher: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        if isinstance(student, Tensor):
            student, teacher = [student], [teacher]
        if len(student) != len(teacher) or not student:
            raise ValueError('FeatureDistillLoss: student and teacher need '
                             'the same, non-zero number of feature levels, '
                             f'got {len(student)} and {len(teacher)}.')
        losses = [
            F.mse_loss(s, t.detach()) for s, t in zip(student, teacher)
        ]
        return self.loss_weight * torch.stack(losses).mean()
