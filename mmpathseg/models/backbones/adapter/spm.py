# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellVTA's spatial prior module: a small CNN one octave finer than
ViT-Adapter's.

ViT-Adapter's SPM reaches 1/4 with a stride-2 conv and a max-pool, then one
stride-2 conv per level (1/8, 1/16, 1/32). CellVTA starts at stride 1 and
puts a stride-1 conv before every stride-2 conv, so its maps are at 1/2
(c1), 1/4, 1/8 and 1/16 (c2..c4), the last one on the ViT's 16-pixel grid.
All 3x3 convs are bias-free; channels for ``inplanes = 64``:

========  ====================================================  ======
stage     layers                                                scale
========  ====================================================  ======
stem      conv 3->64 +BN+ReLU, 2x (conv 64->64 +BN+ReLU),        1/2
          conv 64->64 stride 2 (no BN/ReLU)
conv2     conv 64->64 +BN+ReLU, conv 64->128 s2 +BN+ReLU         1/4
conv3     conv 128->128 +BN+ReLU, conv 128->256 s2 +BN+ReLU      1/8
conv4     conv 256->256 +BN+ReLU, conv 256->256 s2 +BN+ReLU      1/16
fc1..4    1x1 conv with bias to the ViT width D
========  ====================================================  ======

2,572,480 parameters for ``inplanes=64, D=1024``.
"""
from typing import List

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer

from mmpathseg.utils.typing_utils import ConfigType


def _conv_bn_relu(in_channels: int, out_channels: int, stride: int,
                  norm_cfg: ConfigType) -> List[nn.Module]:
    return [
        nn.Conv2d(
            in_channels, out_channels, 3, stride=stride, padding=1,
            bias=False),
        build_norm_layer(norm_cfg, out_channels)[1],
        nn.ReLU(inplace=True)
    ]


class SpatialPriorModule(nn.Module):
    """CNN pyramid at 1/2, 1/4, 1/8 and 1/16 projected to the ViT width.

    Args:
        embed_dims (int): ViT width D.
        inplanes (int): Stem width. Defaults to 64.
        in_channels (int): Image channels. Defaults to 3.
        norm_cfg (dict): Defaults to ``dict(type='BN')`` (CellVTA uses
            plain BatchNorm2d; ViT-Adapter SyncBN).
        with_cp (bool): Gradient checkpointing. Defaults to False.
    """

    def __init__(self,
                 embed_dims: int,
                 inplanes: int = 64,
                 in_channels: int = 3,
                 norm_cfg: ConfigType = dict(type='BN'),
                 with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.stem = nn.Sequential(
            *_conv_bn_relu(in_channels, inplanes, 1, norm_cfg),
            *_conv_bn_relu(inplanes, inplanes, 1, norm_cfg),
            *_conv_bn_relu(inplanes, inplanes, 1, norm_cfg),
            nn.Conv2d(
                inplanes, inplanes, 3, stride=2, padding=1, bias=False))
        self.conv2 = nn.Sequential(
            *_conv_bn_relu(inplanes, inplanes, 1, norm_cfg),
            *_conv_bn_relu(inplanes, 2 * inplanes, 2, norm_cfg))
        self.conv3 = nn.Sequential(
            *_conv_bn_relu(2 * inplanes, 2 * inplanes, 1, norm_cfg),
            *_conv_bn_relu(2 * inplanes, 4 * inplanes, 2, norm_cfg))
        self.conv4 = nn.Sequential(
            *_conv_bn_relu(4 * inplanes, 4 * inplanes, 1, norm_cfg),
            *_conv_bn_relu(4 * inplanes, 4 * inplanes, 2, norm_cfg))
        self.fc1 = nn.Conv2d(inplanes, embed_dims, 1)
        self.fc2 = nn.Conv2d(2 * inplanes, embed_dims, 1)
        self.fc3 = nn.Conv2d(4 * inplanes, embed_dims, 1)
        self.fc4 = nn.Conv2d(4 * inplanes, embed_dims, 1)

    def _forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        c1 = self.stem(x)
        c2 = self.conv2(c1)
        c3 = self.conv3(c2)
        c4 = self.conv4(c3)
        return [self.fc1(c1), self.fc2(c2), self.fc3(c3), self.fc4(c4)]

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        """Args: x ``(B, 3, H, W)``. Returns ``[c1 (B, D, H/2, W/2),
        c2 (B, D, H/4, W/4), c3 (B, D, H/8, W/8), c4 (B, D, H/16, W/16)]``.
        """
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)
