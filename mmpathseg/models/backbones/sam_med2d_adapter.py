# Copyright (c) mmpathseg contributors. All rights reserved.
"""SAM-Med2D's adapter in every SAM ViT block."""

import torch
import torch.nn as nn

from mmpathseg.registry import MODELS
from .sam_vit import SAMViT


class SAMMed2DAdapter(nn.Module):
    """SAM-Med2D's ``Adapter_Layer`` on ``(B, h, w, D)`` tokens.

    ``y = LayerNorm(x' + spatial(x'))`` with ``x' = x * channel(avgpool(x))``:
    channel attention [Linear D -> D/4, ReLU, Linear D/4 -> D, Sigmoid] (no
    biases), spatial branch [3x3 conv stride 2, ReLU, 4x4 transposed conv
    stride 2 pad 1, ReLU] (D -> D, no biases), Kaiming-normal (``fan_out``)
    init. 15.04M parameters at D = 768, so 180.5M over ViT-B's 12 blocks.
    Submodule names (``channel``, ``spatial``, ``norm``) are SAM-Med2D's, so
    its checkpoints load.

    Args:
        dims (int): Token width ``D``.
        ratio (float): Channel-attention bottleneck. Defaults to 0.25.
    """

    def __init__(self, dims: int, ratio: float = 0.25) -> None:
        super().__init__()
        hidden = int(dims * ratio)
        self.norm = nn.LayerNorm(dims)
        self.channel = nn.Sequential(
            nn.Linear(dims, hidden, bias=False), nn.ReLU(),
            nn.Linear(hidden, dims, bias=False), nn.Sigmoid())
        self.spatial = nn.Sequential(
            nn.Conv2d(dims, dims, 3, stride=2, padding=1, bias=False),
            nn.ReLU(),
            nn.ConvTranspose2d(
                dims, dims, 4, stride=2, padding=1, bias=False), nn.ReLU())
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(
                    module.weight, mode='fan_out', nonlinearity='relu')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args: x ``(B, h, w, D)``. Returns ``(B, h, w, D)``."""
        x = x.permute(0, 3, 1, 2)
        weights = self.channel(x.mean(dim=(2, 3)))
        x = x * weights[:, :, None, None]
        spatial = self.spatial(x)
        if spatial.shape[-2:] != x.shape[-2:]:  # odd grids
            spatial = spatial[..., :x.shape[-2], :x.shape[-1]]
        return self.norm((x + spatial).permute(0, 2, 3, 1))


class AdapterBlock(nn.Module):
    """A SAM ViT block with SAM-Med2D's adapter beside its MLP:
    ``x = x + attn(norm1(x)); x = x + mlp(norm2(x)) + Adapter(norm2(x))``.

    It adopts the block's ``norm1``, ``attn``, ``norm2`` and ``mlp`` (same
    parameter names as SAM, plus ``Adapter.*``).
    """

    def __init__(self, block: nn.Module, adapter: SAMMed2DAdapter) -> None:
        super().__init__()
        self.norm1, self.attn = block.norm1, block.attn
        self.norm2, self.mlp = block.norm2, block.mlp
        self.window_size = block.window_size
        self.Adapter = adapter

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from segment_anything.modeling.image_encoder import (
            window_partition, window_unpartition)
        shortcut = x
        x = self.norm1(x)
        if self.window_size > 0:
            height, width = x.shape[1], x.shape[2]
            x, pad_hw = window_partition(x, self.window_size)
        x = self.attn(x)
        if self.window_size > 0:
            x = window_unpartition(x, self.window_size, pad_hw,
                                   (height, width))
        x = shortcut + x
        normed = self.norm2(x)
        return x + self.mlp(normed) + self.Adapter(normed)


@MODELS.register_module()
class SAMAdapterViT(SAMViT):
    """SAM image encoder with SAM-Med2D's adapter in every block.

    Everything of SAM (patch embedding, position embedding, blocks, neck) is
    frozen and only the adapters train (``frozen=True``, the default here;
    SAM-Med2D's ``encoder_adapter=True``).

    Args:
        adapter_ratio (float): Channel-attention bottleneck. Defaults to 0.25.
        frozen (bool): Freeze SAM's own parameters. Defaults to True.
        **kwargs: :class:`SAMViT` arguments (``arch``, ``img_size``, ...).
    """

    def __init__(self,
                 adapter_ratio: float = 0.25,
                 frozen: bool = True,
                 **kwargs) -> None:
        super().__init__(frozen=frozen, **kwargs)
        self.blocks = nn.ModuleList([
            AdapterBlock(block, SAMMed2DAdapter(self.embed_dims,
                                                adapter_ratio))
            for block in self.blocks
        ])
        # Frozen module lists captured the old ModuleList; refresh them.
        if frozen:
            self._frozen_modules = []
            self._frozen_params = []
            self.freeze(trunk_only=False, eval_mode=self.frozen_eval)
            for name, param in self.named_parameters():
                if '.Adapter.' in name:
                    param.requires_grad = True
