# Copyright (c) mmpathseg contributors. All rights reserved.
"""The weight and the log key every registered loss carries."""
import torch.nn as nn


class NamedLoss(nn.Module):
    """Base of a loss with a ``loss_weight`` and a ``loss_name``.

    mmseg heads sum every returned key that contains ``loss``; the key of
    each loss is its ``loss_name``, so two instances of one loss class can
    be logged apart (``'loss_dice'``, ``'loss_dice_aux'``).

    Args:
        loss_weight (float): Factor on the loss.
        loss_name (str): Key the loss is logged under; must start with
            ``'loss_'`` to be summed into the total.
    """

    def __init__(self, loss_weight: float, loss_name: str) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name
