# Copyright (c) mmpathseg contributors. All rights reserved.
"""Mean squared error of the HV regression maps (HoVer-Net/CellViT
``mse_loss``)."""
import torch.nn as nn
from torch import Tensor

from mmpathseg.registry import MODELS
from .one_hot import check_same_shape


@MODELS.register_module()
class HVMSELoss(nn.Module):
    """``mean((pred - target) ** 2)`` over every element (both channels, all
    pixels, background included).

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        loss_name (str): Key of the loss. Defaults to ``'loss_mse'``.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_mse') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        """Args:
            pred (Tensor): ``(B, 2, H, W)`` raw HV outputs.
            target (Tensor): ``(B, 2, H, W)`` HV targets in ``[-1, 1]``.

        Returns:
            Tensor: weighted scalar loss.
        """
        check_same_shape(pred, target, 'HVMSELoss')
        return self.loss_weight * (pred - target.to(pred.dtype)).pow(2).mean()

    @property
    def loss_name(self) -> str:
        return self._loss_name
