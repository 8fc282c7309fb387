# Copyright (c) mmpathseg contributors. All rights reserved.
"""Sigmoid focal loss on binary mask logits (SAM-family conventions)."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmpathseg.registry import MODELS
from .named_loss import NamedLoss


@MODELS.register_module()
class MaskFocalLoss(NamedLoss):
    """``-a (1-p)^g log p`` on foreground, ``-(1-a) p^g log(1-p)`` on
    background, averaged over **every pixel of every mask** of the batch
    (SAM-Med2D's / SyncSAM's ``FocalLoss``: the sum divided by the batch's
    pixel count, padding included).

    ``log p`` is computed as ``logsigmoid``; the references use
    ``log(sigmoid + 1e-12)``, which agrees until ``|logit| > ~27``.

    Args:
        alpha (float): Foreground weight. Defaults to 0.25.
        gamma (float): Focusing exponent. Defaults to 2.
        loss_weight (float): Defaults to 1.0 (SAM-Med2D: 20).
        loss_name (str): Defaults to 'loss_focal'.
    """

    def __init__(self,
                 alpha: float = 0.25,
                 gamma: float = 2.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_focal') -> None:
        super().__init__(loss_weight, loss_name)
        self.alpha, self.gamma = alpha, gamma

    def forward(self,
                logits: torch.Tensor,
                target: torch.Tensor,
                iou_pred: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args: logits ``(M, 1, H, W)``; target same shape, {0, 1}."""
        target = target.float()
        prob = logits.sigmoid()
        pos = -self.alpha * target * (1 - prob)**self.gamma * F.logsigmoid(
            logits)
        neg = -(1 - self.alpha) * (1 - target) * prob**self.gamma * \
            F.logsigmoid(-logits)
        return self.loss_weight * (pos + neg).mean()
