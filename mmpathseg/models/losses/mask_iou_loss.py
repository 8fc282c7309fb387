# Copyright (c) mmpathseg contributors. All rights reserved.
"""IoU-prediction loss of SAM's IoU head (SAM-Med2D, IMIS)."""
from typing import Optional

import torch

from mmpathseg.registry import MODELS
from .named_loss import NamedLoss


@MODELS.register_module()
class MaskIoUMSELoss(NamedLoss):
    """``mean((iou_pred - IoU)^2)`` where IoU is SAM-Med2D's soft IoU of
    ``sigmoid(logits)`` and the target **pooled over the batch** (its
    ``MaskIoULoss``), ``(I + 1e-7) / (U + 1e-7)``; the target IoU carries no
    gradient. Heads without an IoU head (SyncSAM) must not use it.

    Args:
        loss_weight (float): Defaults to 1.0.
        loss_name (str): Defaults to 'loss_iou'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_iou') -> None:
        super().__init__(loss_weight, loss_name)

    def forward(self,
                logits: torch.Tensor,
                target: torch.Tensor,
                iou_pred: Optional[torch.Tensor] = None) -> torch.Tensor:
        if iou_pred is None:
            raise ValueError('MaskIoUMSELoss needs the IoU head output; the '
                             'decoder has none (SyncSAM\'s Med token '
                             'decoder): remove this loss from its config.')
        with torch.no_grad():
            prob = logits.sigmoid()
            target = target.float()
            inter = (prob * target).sum()
            union = prob.sum() + target.sum() - inter
            iou = (inter + 1e-7) / (union + 1e-7)
        return self.loss_weight * ((iou_pred - iou)**2).mean()
