# Copyright (c) mmpathseg contributors. All rights reserved.
"""Up-sampling blocks of the guide decoder (the MONAI blocks Ariadne uses,
written here: ``UnetrUpBlock`` and ``SubpixelUpsample``)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from torch import Tensor

from mmpathseg.utils.typing_utils import ConfigType


class ConvNormAct(nn.Sequential):
    """3x3 conv (no bias), norm, LeakyReLU(0.01)."""

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: ConfigType) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1],
            nn.LeakyReLU(0.01, inplace=True))


class UpBlock(nn.Module):
    """``ConvTranspose2d(k=2, s=2, no bias)`` to ``out_channels``, concat
    with the skip, two :class:`ConvNormAct` (MONAI ``UnetrUpBlock`` with
    ``res_block=False``).

    ``(B, C_in, h, w)``, skip ``(B, C_out, 2h, 2w)`` -> ``(B, C_out, 2h,
    2w)``; an odd skip size is matched by bilinear resizing.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: ConfigType = dict(type='BN')) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(
            in_channels, out_channels, 2, stride=2, bias=False)
        self.conv1 = ConvNormAct(2 * out_channels, out_channels, norm_cfg)
        self.conv2 = ConvNormAct(out_channels, out_channels, norm_cfg)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.up(x)
        if x.shape[-2:] != skip.shape[-2:]:
            x = F.interpolate(
                x, size=skip.shape[-2:], mode='bilinear',
                align_corners=False)
        return self.conv2(self.conv1(torch.cat([x, skip], dim=1)))


class SubpixelUpsample(nn.Module):
    """3x3 conv to ``C_out * s^2``, pixel shuffle by ``s``, then (MONAI's
    ``apply_pad_pool``) a top/left zero pad of ``s - 1`` and an ``s x s``
    stride-1 average pool against checkerboard artefacts.

    ``(B, C_in, h, w)`` -> ``(B, C_out, s h, s w)``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 scale: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels * scale**2, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)
        self.pad_pool = nn.Sequential(
            nn.ZeroPad2d((scale - 1, 0, scale - 1, 0)),
            nn.AvgPool2d(scale, stride=1))

    def forward(self, x: Tensor) -> Tensor:
        return self.pad_pool(self.shuffle(self.conv(x)))
