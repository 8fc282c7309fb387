# Copyright (c) mmpathseg contributors. All rights reserved.
"""LISA's per-mask sigmoid BCE and Dice, with ignored pixels left out."""
from typing import Optional

import torch
from torch import Tensor
import torch.nn.functional as F

__all__ = ['mask_bce_per_mask', 'mask_dice_per_mask']


def mask_bce_per_mask(logits: Tensor, target: Tensor,
                      valid: Optional[Tensor] = None) -> Tensor:
    """Mean BCE-with-logits over the valid pixels of each mask.

    Args:
        logits, target: ``(N, H, W)``; target in {0, 1}.
        valid: ``(H, W)`` or ``(N, H, W)`` bool, or None (all pixels).

    Returns:
        Tensor: ``(N,)``.
    """
    loss = F.binary_cross_entropy_with_logits(
        logits, target.float(), reduction='none')
    if valid is None:
        return loss.flatten(1).mean(1)
    valid = valid.expand_as(loss).float()
    return (loss * valid).flatten(1).sum(1) / valid.flatten(1).sum(1).clamp(
        min=1)


def mask_dice_per_mask(logits: Tensor,
                       target: Tensor,
                       valid: Optional[Tensor] = None,
                       scale: float = 1000.0,
                       eps: float = 1e-6) -> Tensor:
    """LISA's Dice: ``1 - (2 sum(p t)/s + eps) / (sum(p)/s + sum(t)/s +
    eps)`` per mask with ``p = sigmoid(logits)`` and ``s = scale``.

    Returns:
        Tensor: ``(N,)``.
    """
    prob = logits.sigmoid()
    target = target.float()
    if valid is not None:
        valid = valid.expand_as(prob).float()
        prob, target = prob * valid, target * valid
    prob, target = prob.flatten(1), target.flatten(1)
    num = 2 * (prob / scale * target).sum(1)
    den = (prob / scale).sum(1) + (target / scale).sum(1)
    return 1 - (num + eps) / (den + eps)
