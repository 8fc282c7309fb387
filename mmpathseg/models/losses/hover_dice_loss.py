# Copyright (c) mmpathseg contributors. All rights reserved.
"""Soft Dice loss of HoVer-Net and CellViT: one Dice per class over the whole
batch, summed over the classes (background included).

mmseg's ``DiceLoss`` is a different quantity: it pools the classes of each
image into one Dice and averages over images (and drops ``ignore_index``),
so it cannot stand in for this one.
"""
import torch.nn as nn
from torch import Tensor

from mmpathseg.registry import MODELS
from .one_hot import as_one_hot


@MODELS.register_module()
class HoVerDiceLoss(nn.Module):
    """``sum_c 1 - (2 sum(p_c t_c) + s) / (sum(p_c) + sum(t_c) + s)`` with the
    sums over images and pixels and ``p`` the softmax of the logits.

    Args:
        smooth (float): ``s``. Defaults to 1e-3.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        loss_name (str): Key of the loss. Defaults to ``'loss_dice'``.
    """

    def __init__(self,
                 smooth: float = 1e-3,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__()
        self.smooth = smooth
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Args:
            pred (Tensor): ``(B, C, H, W)`` logits.
            target (Tensor): ``(B, H, W)`` class indices or ``(B, C, H, W)``
                one-hot.

        Returns:
            Tensor: weighted scalar loss (in ``[0, C]`` before weighting).
        """
        one_hot = as_one_hot(target, pred, 'HoVerDiceLoss')
        probs = pred.softmax(dim=1)
        inter = (probs * one_hot).sum((0, 2, 3))
        total = probs.sum((0, 2, 3)) + one_hot.sum((0, 2, 3))
        dice = (2 * inter + self.smooth) / (total + self.smooth)
        return self.loss_weight * (1 - dice).sum()

    @property
    def loss_name(self) -> str:
        return self._loss_name
