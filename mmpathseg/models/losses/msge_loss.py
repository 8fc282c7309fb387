# Copyright (c) mmpathseg contributors. All rights reserved.
"""Mean squared gradient error of the HV maps (HoVer-Net's ``msge_loss``,
as CellViT/CellVTA use it).

The gradients come from 5x5 "Sobel-like" kernels built on offsets
``r = -2..2``::

    h, v = meshgrid(r, r, indexing)
    kernel_h = h / (h**2 + v**2 + 1e-15),  kernel_v = v / (h**2 + v**2 + 1e-15)

``kernel_h`` is applied (cross-correlation, zero padding 2) to channel 0 of
the maps (the horizontal/x map) and ``kernel_v`` to channel 1 (vertical/y).
The squared differences of prediction and target gradients are summed over
the nucleus pixels (mask repeated for both channels) and divided by
``2 * #nucleus pixels + 1e-8``.

**Gradient axis (reference quirk).** The PyTorch HoVer-Net, CellViT and
CellVTA build the kernels with ``indexing='ij'``: ``h`` then varies along the
rows, so the x map is differentiated along y and the y map along x. The
original TensorFlow HoVer-Net used numpy's ``'xy'`` meshgrid (x map along x).
The published CellViT/CellVTA models were trained with ``'ij'``, which is
the default here; ``'xy'`` gives the derivative the method describes.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmpathseg.registry import MODELS
from .one_hot import check_same_shape


def hv_gradient_kernels(size: int = 5,
                        indexing: str = 'ij',
                        dtype: torch.dtype = torch.float32,
                        device: Optional[torch.device] = None
                        ) -> Tuple[Tensor, Tensor]:
    """The ``(size, size)`` kernels ``kernel_h`` and ``kernel_v`` (see the
    module docstring)."""
    if size % 2 != 1:
        raise ValueError(f'MSGE kernel size must be odd, got {size}.')
    r = torch.arange(-(size // 2), size // 2 + 1, dtype=dtype, device=device)
    h, v = torch.meshgrid(r, r, indexing=indexing)
    denom = h * h + v * v + 1.0e-15
    return h / denom, v / denom


@MODELS.register_module()
class MSGELoss(nn.Module):
    """Mean squared gradient error of HV maps over the nucleus pixels.

    Args:
        kernel_size (int): Size of the gradient kernels. Defaults to 5.
        kernel_indexing (str): ``'ij'`` (CellViT/CellVTA/PyTorch HoVer-Net,
            default) or ``'xy'`` (TensorFlow HoVer-Net; each map
            differentiated along its own axis).
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        loss_name (str): Key of the loss. Defaults to ``'loss_msge'``.
    """

    # The head passes the nucleus mask as ``fg_mask`` to losses that set it.
    uses_fg_mask = True

    def __init__(self,
                 kernel_size: int = 5,
                 kernel_indexing: str = 'ij',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_msge') -> None:
        super().__init__()
        if kernel_indexing not in ('ij', 'xy'):
            raise ValueError("MSGELoss: kernel_indexing must be 'ij' "
                             "(CellViT/CellVTA) or 'xy' (TensorFlow "
                             f'HoVer-Net), got {kernel_indexing!r}.')
        kernel_h, kernel_v = hv_gradient_kernels(kernel_size, kernel_indexing)
        # (2, 1, k, k): kernel_h for channel 0, kernel_v for channel 1.
        self.register_buffer(
            'kernels', torch.stack([kernel_h, kernel_v])[:, None],
            persistent=False)
        self.kernel_indexing = kernel_indexing
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def gradients(self, hv: Tensor) -> Tensor:
        """``(B, 2, H, W)`` -> ``(B, 2, H, W)`` channel-wise gradients."""
        kernels = self.kernels.to(hv.dtype)
        return F.conv2d(
            hv, kernels, padding=kernels.shape[-1] // 2, groups=2)

    def forward(self,
                pred: Tensor,
                target: Tensor,
                fg_mask: Optional[Tensor] = None,
                **kwargs) -> Tensor:
        """Args:
            pred (Tensor): ``(B, 2, H, W)`` raw HV outputs.
            target (Tensor): ``(B, 2, H, W)`` HV targets.
            fg_mask (Tensor): ``(B, H, W)`` nucleus mask (non-zero = nucleus),
                the NP target.

        Returns:
            Tensor: weighted scalar loss.
        """
        check_same_shape(pred, target, 'MSGELoss')
        if pred.shape[1] != 2:
            raise ValueError('MSGELoss: expects 2-channel HV maps, got '
                             f'{pred.shape[1]} channels.')
        if fg_mask is None:
            raise ValueError('MSGELoss needs `fg_mask`, the (B, H, W) nucleus '
                             'mask (the head passes the NP target).')
        if fg_mask.shape != pred.shape[:1] + pred.shape[2:]:
            raise ValueError(f'MSGELoss: fg_mask {tuple(fg_mask.shape)} does '
                             f'not match the maps {tuple(pred.shape)}.')
        mask = (fg_mask > 0).to(pred.dtype)[:, None]
        diff = self.gradients(pred) - self.gradients(target.to(pred.dtype))
        loss = (diff.pow(2) * mask).sum() / (2 * mask.sum() + 1.0e-8)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name
