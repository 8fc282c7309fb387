# Copyright (c) mmpathseg contributors. All rights reserved.
"""Pixel-wise cross-entropy as HoVer-Net's and CellViT's ``xentropy_loss``:
on softmax probabilities clamped to ``[eps, 1 - eps]``.

Without the clamp it equals mmseg's ``CrossEntropyLoss`` (mean over all
pixels). The clamp is kept because it changes training: a pixel whose
true-class probability is below ``eps`` gets no gradient from this loss.
``eps=None`` turns it off.
"""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmpathseg.registry import MODELS
from .one_hot import as_one_hot


@MODELS.register_module()
class HoVerCrossEntropyLoss(nn.Module):
    """``mean over pixels of -sum_c t_c log(clamp(p_c, eps, 1 - eps))`` with
    ``p`` the softmax of the logits.

    Args:
        eps (float, optional): Clamp of the probabilities; None for the
            plain (log-softmax) cross-entropy. Defaults to 1e-7 (CellViT's
            ``10e-8``).
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        loss_name (str): Key of the loss. Defaults to ``'loss_ce'``.
    """

    def __init__(self,
                 eps: Optional[float] = 1e-7,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce') -> None:
        super().__init__()
        if eps is not None and not 0 < eps < 0.5:
            raise ValueError('HoVerCrossEntropyLoss: eps must be in (0, 0.5) '
                             f'or None, got {eps}.')
        self.eps = eps
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Args:
            pred (Tensor): ``(B, C, H, W)`` logits.
            target (Tensor): ``(B, H, W)`` class indices or ``(B, C, H, W)``
                one-hot (soft targets allowed).

        Returns:
            Tensor: weighted scalar loss.
        """
        one_hot = as_one_hot(target, pred, 'HoVerCrossEntropyLoss')
        if self.eps is None:
            log_probs = F.log_softmax(pred, dim=1)
        else:
            log_probs = pred.softmax(dim=1).clamp(self.eps,
                                                  1.0 - self.eps).log()
        loss = -(one_hot * log_probs).sum(dim=1).mean()
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name
