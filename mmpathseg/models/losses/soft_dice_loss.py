# Copyright (c) mmpathseg contributors. All rights reserved.
"""Soft Dice of a one-channel (sigmoid) segmentation head."""
import torch
import torch.nn as nn
from torch import Tensor

from mmpathseg.registry import MODELS


@MODELS.register_module()
class SoftDiceLoss(nn.Module):
    """``1 - (2 sum(p g) + s) / (sum p + sum g + s)`` per image, averaged
    over the batch, with ``p = sigmoid(logits)``.

    The defaults equal MONAI's ``DiceLoss(sigmoid=True)`` (smooth 1e-5 on
    numerator and denominator, per sample), i.e. the objective Ariadne's
    Thread actually trains with (its ``DiceCELoss`` on one channel had a CE
    term of zero under MONAI 1.0.1). Pixels labelled ``ignore_index`` are
    left out.

    Args:
        smooth (float): Defaults to 1e-5.
        ignore_index (int): Defaults to 255.
        loss_weight (float): Defaults to 1.0.
        loss_name (str): Defaults to ``'loss_dice'``.
    """

    def __init__(self,
                 smooth: float = 1e-5,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        self.smooth = smooth
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, logits: Tensor, target: Tensor, **kwargs) -> Tensor:
        """``(B, 1, H, W)`` logits, ``(B, H, W)`` 0/1 target -> scalar."""
        if logits.dim() != 4 or logits.shape[1] != 1:
            raise ValueError('SoftDiceLoss expects (B, 1, H, W) logits, got '
                             f'{tuple(logits.shape)}.')
        prob = logits[:, 0].sigmoid().flatten(1)
        target = target.flatten(1)
        valid = (target != self.ignore_index).to(prob.dtype)
        gt = (target == 1).to(prob.dtype)
        prob = prob * valid
        inter = (prob * gt).sum(1)
        denom = prob.sum(1) + gt.sum(1)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return self.loss_weight * (1 - dice).mean()
