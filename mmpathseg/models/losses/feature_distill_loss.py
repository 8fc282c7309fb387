# Copyright (c) mmpathseg contributors. All rights reserved.
"""L2 feature distillation (MLMoE's text-absent stage)."""
from typing import Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from mmpathseg.registry import MODELS
from .named_loss import NamedLoss

DISTANCES = ('mse', 'l2')


@MODELS.register_module()
class FeatureDistillLoss(NamedLoss):
    """Distance between student and (detached) teacher features, averaged
    over the given feature levels.

    ``distance='mse'``: mean squared difference over all elements (scale
    independent of the token count). ``distance='l2'``: the paper's
    ``E_x ||f_m - f^_m||_2``, the Euclidean norm of each sample's flattened
    difference, averaged over samples (grows with ``sqrt(N C)``).

    Args:
        distance (str): ``'mse'`` or ``'l2'``. Defaults to ``'mse'``.
        loss_weight (float): Defaults to 1.0 (the paper gives no weight).
        loss_name (str): Defaults to ``'loss_distill'``.
    """

    def __init__(self,
                 distance: str = 'mse',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_distill') -> None:
        super().__init__(loss_weight, loss_name)
        if distance not in DISTANCES:
            raise ValueError(f'FeatureDistillLoss: distance must be one of '
                             f'{DISTANCES}, got {distance!r}.')
        self.distance = distance

    def _one(self, student: Tensor, teacher: Tensor) -> Tensor:
        teacher = teacher.detach()
        if self.distance == 'mse':
            return F.mse_loss(student, teacher)
        return (student - teacher).flatten(1).norm(dim=1).mean()

    def forward(self, student: Union[Tensor, Sequence[Tensor]],
                teacher: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Tensors (or lists of them, one per level) ``(B, ...)``."""
        if isinstance(student, Tensor):
            student, teacher = [student], [teacher]
        if len(student) != len(teacher) or not student:
            raise ValueError('FeatureDistillLoss: student and teacher need '
                             'the same, non-zero number of feature levels, '
                             f'got {len(student)} and {len(teacher)}.')
        losses = [self._one(s, t) for s, t in zip(student, teacher)]
        return self.loss_weight * torch.stack(losses).mean()
