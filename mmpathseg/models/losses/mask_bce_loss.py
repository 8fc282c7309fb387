# Copyright (c) mmpathseg contributors. All rights reserved.
"""Binary cross-entropy on mask logits (MedSAM's second term)."""
from typing import Optional

import torch
import torch.nn.functional as F

from mmpathseg.registry import MODELS
from .named_loss import NamedLoss


@MODELS.register_module()
class MaskBCELoss(NamedLoss):
    """``BCEWithLogits`` averaged over every pixel of every mask.

    Args:
        loss_weight (float): Defaults to 1.0.
        loss_name (str): Defaults to 'loss_bce'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_bce') -> None:
        super().__init__(loss_weight, loss_name)

    def forward(self,
                logits: torch.Tensor,
                target: torch.Tensor,
                iou_pred: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.loss_weight * F.binary_cross_entropy_with_logits(
            logits, target.float())
