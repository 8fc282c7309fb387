# Copyright (c) mmpathseg contributors. All rights reserved.
"""Projection of a CNN stage feature onto the ViT token grid (SyncSAM)."""
import math

import torch
import torch.nn as nn


def _layer_norm_2d():
    from segment_anything.modeling.common import LayerNorm2d
    return LayerNorm2d


class TokenProjection(nn.Sequential):
    """Map a ``(B, C, s*h, s*w)`` CNN feature to ``(B, D, h, w)``.

    SyncSAM's "Reshaper" pattern, chosen from the size ratio ``s`` between
    the CNN feature and the token grid (a power of 2):

    - ``s > 1``: ``log2(s)`` times [3x3 conv stride 2, channels x2,
      LayerNorm2d, GELU], then a 1x1 conv to ``D`` (ResNet layer1 at 1/4:
      C -> 2C -> 4C -> D; layer2 at 1/8: C -> 2C -> D);
    - ``s == 1``: a 1x1 conv (layer3 at 1/16);
    - ``s < 1``: ``log2(1/s)`` times [2x2 transposed conv stride 2, channels
      /2, LayerNorm2d, GELU], then a 1x1 conv (layer4 at 1/32: C -> C/2 ->
      D).

    Convolutions start from Kaiming-normal (``fan_out``, ReLU gain) with zero
    biases, as the reference (no zero init: the CNN perturbs the frozen ViT
    from the first step); ``zero_init=True`` zeroes the last 1x1 conv instead
    so training starts from the plain ViT (an ablation switch).

    Args:
        in_channels (int): CNN feature channels ``C``.
        out_channels (int): ViT width ``D``.
        scale (float): CNN feature size / token grid size (4, 2, 1, 0.5 for
            ResNet layer1..4 under a patch-16 ViT).
        zero_init (bool): Zero the output conv. Defaults to False.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 scale: float,
                 zero_init: bool = False) -> None:
        steps = math.log2(scale)
        if steps != int(steps):
            raise ValueError(
                f'TokenProjection: the CNN feature must be a power-of-2 '
                f'multiple of the token grid, got a ratio of {scale}.')
        steps = int(steps)
        norm = _layer_norm_2d()
        layers = []
        channels = in_channels
        for _ in range(abs(steps)):
            if steps > 0:
                layers += [
                    nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1),
                    norm(channels * 2),
                    nn.GELU()
                ]
                channels *= 2
            else:
                if channels % 2:
                    raise ValueError(f'TokenProjection: cannot halve '
                                     f'{channels} channels to upsample.')
                layers += [
                    nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
                    norm(channels // 2),
                    nn.GELU()
                ]
                channels //= 2
        layers.append(nn.Conv2d(channels, out_channels, 1))
        super().__init__(*layers)
        self.scale = scale
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(
                    module.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(module.bias)
        if zero_init:
            nn.init.zeros_(self[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x ``(B, C, s*h, s*w)``. Returns ``(B, D, h, w)``."""
        return super().forward(x)
