# Copyright (c) mmpathseg contributors. All rights reserved.
"""SyncSAM's multi-scale fusion branch (SAM-HQ's global-local feature with
three taps)."""
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig
from .syncsam_projection import _layer_norm_2d


def _upsample_x4(in_channels: int, hidden: int, out_channels: int):
    """[2x2 ConvT s2, LayerNorm2d, GELU, 2x2 ConvT s2]: 4x larger."""
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, hidden, 2, stride=2),
        _layer_norm_2d()(hidden), nn.GELU(),
        nn.ConvTranspose2d(hidden, out_channels, 2, stride=2))


@MODELS.register_module()
class MultiScaleFusion(BaseModule):
    """Fuse early ViT stages and the image embedding at 1/4 resolution.

    ``F~ = embedding_encoder(F) + sum_i bridge_i(F_i)``: every tap (the
    output of the global block of stages 1..3, ``(B, D, h, w)``) goes through
    its own bridge [ConvT 2x2 D -> ``bridge_channels``, LayerNorm2d, GELU,
    ConvT 2x2 -> ``out_channels``], the neck output ``F`` ``(B, C, h, w)``
    through ``embedding_encoder`` [ConvT C -> ``2 * out_channels``,
    LayerNorm2d, GELU, ConvT -> ``out_channels``]. ViT-B at 256: three
    0.82M bridges and a 74K embedding encoder, output ``(B, 32, 64, 64)``.
    Default PyTorch initialisation, as the reference.

    Args:
        vit_channels (int): Tap width ``D`` (768 for ViT-B).
        embed_channels (int): Neck width ``C``. Defaults to 256.
        out_channels (int): Output width. Defaults to 32.
        bridge_channels (int): Bridge hidden width. Defaults to 256.
        num_taps (int): Number of tapped stages. Defaults to 3.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 vit_channels: int,
                 embed_channels: int = 256,
                 out_channels: int = 32,
                 bridge_channels: int = 256,
                 num_taps: int = 3,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_taps = num_taps
        self.out_channels = out_channels
        self.bridges = nn.ModuleList([
            _upsample_x4(vit_channels, bridge_channels, out_channels)
            for _ in range(num_taps)
        ])
        self.embedding_encoder = _upsample_x4(embed_channels,
                                              out_channels * 2, out_channels)

    def forward(self, embedding: torch.Tensor,
                taps: Sequence[torch.Tensor]) -> torch.Tensor:
        """Args:
            embedding: ``(B, C, h, w)`` neck output.
            taps: ``num_taps`` tensors ``(B, D, h, w)``, earliest first.

        Returns:
            ``(B, out_channels, 4h, 4w)``.
        """
        if len(taps) != self.num_taps:
            raise ValueError(f'MultiScaleFusion: expected {self.num_taps} '
                             f'taps, got {len(taps)}.')
        out = self.embedding_encoder(embedding)
        for bridge, tap in zip(self.bridges, taps):
            out = out + bridge(tap)
        return out
