# Copyright (c) mmpathseg contributors. All rights reserved.
"""Soft Dice loss on binary mask logits (SAM-family conventions)."""
from typing import Optional

import torch

from mmpathseg.registry import MODELS
from .named_loss import NamedLoss

REDUCTIONS = ('batch', 'mask')


@MODELS.register_module()
class MaskDiceLoss(NamedLoss):
    """``1 - (2 |P G| + s) / (|P| + |G| + s)`` with ``P = sigmoid(logits)``.

    ``reduction='batch'`` (SyncSAM, SAM-Med2D, IMIS) computes **one** Dice
    over all masks of the batch pooled together (their ``DiceLoss`` sums
    over the whole tensor), so large masks dominate and an empty mask adds
    only false-positive mass; ``'mask'`` computes it per mask and averages
    (MONAI's ``DiceLoss(reduction='mean')``, MedSAM). ``squared=True`` uses
    ``|P|^2 + |G|^2`` in the denominator (MONAI ``squared_pred``, MedSAM,
    with ``smooth=1e-5``).

    Args:
        reduction (str): ``'batch'`` or ``'mask'``. Defaults to 'batch'.
        smooth (float): Added to numerator and denominator. Defaults to 1.
        squared (bool): Squared denominator terms. Defaults to False.
        loss_weight (float): Defaults to 1.0 (SyncSAM: 20).
        loss_name (str): Key of the loss. Defaults to 'loss_dice'.
    """

    def __init__(self,
                 reduction: str = 'batch',
                 smooth: float = 1.0,
                 squared: bool = False,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__(loss_weight, loss_name)
        if reduction not in REDUCTIONS:
            raise ValueError(f'MaskDiceLoss: reduction must be one of '
                             f'{REDUCTIONS}, got {reduction!r}.')
        self.reduction = reduction
        self.smooth = smooth
        self.squared = squared

    def forward(self,
                logits: torch.Tensor,
                target: torch.Tensor,
                iou_pred: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args: logits ``(M, 1, H, W)``; target same shape, {0, 1}."""
        prob = logits.sigmoid().flatten(1)
        target = target.float().flatten(1)
        if self.reduction == 'batch':
            prob, target = prob.reshape(1, -1), target.reshape(1, -1)
        inter = (prob * target).sum(1)
        if self.squared:
            denom = (prob * prob).sum(1) + (target * target).sum(1)
        else:
            denom = prob.sum(1) + target.sum(1)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return self.loss_weight * (1 - dice).mean()
