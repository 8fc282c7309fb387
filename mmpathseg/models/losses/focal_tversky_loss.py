# Copyright (c) mmpathseg contributors. All rights reserved.
"""Focal Tversky loss (Abraham & Khan, ISBI 2019) as CellViT/CellVTA use it,
pooled over all channels (NP branch) or per class (NC branch).

With soft predictions ``p`` and one-hot targets ``t``::

    TP = sum(p t),  FP = sum(p (1 - t)),  FN = sum((1 - p) t)
    T  = (TP + s) / (TP + alpha FN + beta FP + s)
    loss = (1 - T) ** gamma

``alpha`` weighs false negatives and ``beta`` false positives, as in the
paper and CellViT (mmseg's ``TverskyLoss`` names them the other way round).

**Double softmax (reference quirk).** CellViT/CellVTA soft-max the NP and NC
logits before handing them to the loss dictionary, and the Focal Tversky
loss soft-maxes its input again. The published models were trained with
this, so ``double_softmax=True`` (default) reproduces it; ``False`` applies
one softmax, the textbook loss. Both take logits.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from mmpathseg.registry import MODELS
from .one_hot import as_one_hot


def focal_tversky(probs: Tensor,
                  one_hot: Tensor,
                  alpha: float,
                  beta: float,
                  gamma: float,
                  smooth: float,
                  per_class: bool,
                  class_weight: Optional[Tensor] = None) -> Tensor:
    """Focal Tversky loss of soft predictions.

    Args:
        probs (Tensor): ``(B, C, H, W)`` probabilities.
        one_hot (Tensor): ``(B, C, H, W)`` one-hot targets.
        alpha (float): False-negative weight.
        beta (float): False-positive weight.
        gamma (float): Focal exponent.
        smooth (float): Added to numerator and denominator.
        per_class (bool): False pools every element (all channels, pixels and
            images) into one index; True computes one index per channel over
            pixels and images and sums the channel losses.
        class_weight (Tensor, optional): ``(C, )`` weights of the channel
            losses when ``per_class``; 1 when None.

    Returns:
        Tensor: scalar loss.
    """
    dims = (0, 2, 3) if per_class else (0, 1, 2, 3)
    tp = (probs * one_hot).sum(dims)
    fp = (probs * (1 - one_hot)).sum(dims)
    fn = ((1 - probs) * one_hot).sum(dims)
    tversky = (tp + smooth) / (tp + alpha * fn + beta * fp + smooth)
    loss = (1 - tversky)**gamma
    if per_class and class_weight is not None:
        loss = loss * class_weight
    return loss.sum()


@MODELS.register_module()
class FocalTverskyLoss(nn.Module):
    """Focal Tversky loss with TP/FP/FN pooled over all channels (CellViT's
    ``FocalTverskyLoss``, used on the 2-channel NP branch).

    Args:
        alpha (float): False-negative weight. Defaults to 0.7.
        beta (float): False-positive weight. Defaults to 0.3.
        gamma (float): Focal exponent. Defaults to 4/3.
        smooth (float): Smoothing. Defaults to 1e-6.
        double_softmax (bool): Soft-max the logits twice (reference
            behaviour, see the module docstring). Defaults to True.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        loss_name (str): Key of the loss. Defaults to ``'loss_ft'``.
    """

    per_class = False

    def __init__(self,
                 alpha: float = 0.7,
                 beta: float = 0.3,
                 gamma: float = 4 / 3,
                 smooth: float = 1e-6,
                 double_softmax: bool = True,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ft') -> None:
        super().__init__()
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.smooth = smooth
        self.double_softmax = double_softmax
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def _class_weight(self, pred: Tensor) -> Optional[Tensor]:
        return None

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Args:
            pred (Tensor): ``(B, C, H, W)`` logits.
            target (Tensor): ``(B, H, W)`` class indices or ``(B, C, H, W)``
                one-hot.

        Returns:
            Tensor: weighted scalar loss.
        """
        one_hot = as_one_hot(target, pred, type(self).__name__)
        probs = pred.softmax(dim=1)
        if self.double_softmax:
            probs = probs.softmax(dim=1)
        loss = focal_tversky(probs, one_hot, self.alpha, self.beta,
                             self.gamma, self.smooth, self.per_class,
                             self._class_weight(pred))
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name


@MODELS.register_module()
class MCFocalTverskyLoss(FocalTverskyLoss):
    """Focal Tversky loss per class, summed over classes (CellViT's
    ``MCFocalTverskyLoss``, used on the NC branch, background included).

    Args:
        class_weight (Sequence[float], optional): Weight of each class's
            loss; all 1 when None (as in CellViT/CellVTA). Defaults to None.
        Others as :class:`FocalTverskyLoss`; ``loss_name`` defaults to
        ``'loss_ft'``.
    """

    per_class = True

    def __init__(self,
                 alpha: float = 0.7,
                 beta: float = 0.3,
                 gamma: float = 4 / 3,
                 smooth: float = 1e-6,
                 double_softmax: bool = True,
                 class_weight: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ft') -> None:
        super().__init__(
            alpha=alpha,
            beta=beta,
            gamma=gamma,
            smooth=smooth,
            double_softmax=double_softmax,
            loss_weight=loss_weight,
            loss_name=loss_name)
        self.class_weight = None if class_weight is None else \
            [float(w) for w in class_weight]

    def _class_weight(self, pred: Tensor) -> Optional[Tensor]:
        if self.class_weight is None:
            return None
        if len(self.class_weight) != pred.shape[1]:
            raise ValueError(
                f'MCFocalTverskyLoss: class_weight has '
                f'{len(self.class_weight)} entries but the prediction has '
                f'{pred.shape[1]} classes (background included).')
        return torch.tensor(
            self.class_weight, dtype=pred.dtype, device=pred.device)
