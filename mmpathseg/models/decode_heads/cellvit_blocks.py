# Copyright (c) mmpathseg contributors. All rights reserved.
"""The two convolution blocks of the CellViT/CellVTA decoder and the
upsampling path of one output branch.

The inner ``block`` sequentials keep the layer order of the published code
(conv, norm, activation, dropout), so an official decoder state dict maps onto
these modules by renaming the prefixes only. Weights keep PyTorch's default
initialisation, as in the reference.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from torch import Tensor

from mmpathseg.utils.typing_utils import ConfigType


def _norm_act_drop(channels: int, norm_cfg: ConfigType, act_cfg: ConfigType,
                   drop_rate: float) -> List[nn.Module]:
    layers = [build_norm_layer(norm_cfg, channels)[1],
              build_activation_layer(act_cfg)]
    if drop_rate > 0:
        layers.append(nn.Dropout(drop_rate))
    return layers


class Conv2DBlock(nn.Module):
    """``k x k`` convolution (with bias, 'same' padding) -> norm -> activation
    -> dropout. Keeps the spatial size.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Odd kernel size. Defaults to 3.
        norm_cfg (dict): Norm layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation. Defaults to ``dict(type='ReLU')``.
        drop_rate (float): Dropout after the activation; none when 0.
            Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 drop_rate: float = 0.) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError('Conv2DBlock: kernel_size must be odd to keep '
                             f'the spatial size, got {kernel_size}.')
        self.block = nn.Sequential(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                padding=(kernel_size - 1) // 2,
                bias=True),
            *_norm_act_drop(out_channels, norm_cfg, act_cfg, drop_rate))

    def forward(self, x: Tensor) -> Tensor:
        """(B, in, H, W) -> (B, out, H, W)."""
        return self.block(x)


class Deconv2DBlock(nn.Module):
    """2x2 stride-2 transposed convolution -> 3x3 convolution -> norm ->
    activation -> dropout. Doubles the spatial size.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        norm_cfg (dict): Norm layer. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation. Defaults to ``dict(type='ReLU')``.
        drop_rate (float): Dropout after the activation; none when 0.
            Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 drop_rate: float = 0.) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ConvTranspose2d(
                in_channels, out_channels, kernel_size=2, stride=2),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=True),
            *_norm_act_drop(out_channels, norm_cfg, act_cfg, drop_rate))

    def forward(self, x: Tensor) -> Tensor:
        """(B, in, H, W) -> (B, out, 2H, 2W)."""
        return self.block(x)


def _upsample(in_channels: int, out_channels: int) -> nn.ConvTranspose2d:
    """2x2 stride-2 transposed convolution."""
    return nn.ConvTranspose2d(
        in_channels, out_channels, kernel_size=2, stride=2)


class HoVerBranchDecoder(nn.Module):
    """The upsampling path of one output branch (NP, HV, NC, ...).

    Consumes the bottleneck feature and the four skip features and returns
    full-resolution maps. With ``b`` = ``bottleneck_channels`` and ``(c0,
    c1, c2)`` = ``decoder_channels`` (reference: 64, 128, 256):

    ====================  ======================================  ==========
    stage                 layers                                  output
    ====================  ======================================  ==========
    bottleneck_upsampler  ConvT(D->b) (``'convtranspose'``,       (b, H/8)
                          CellViT) or Deconv2DBlock(D->b)
                          (``'deconv_block'``, CellVTA)
    decoder3_upsampler    cat[skip3 (b), .] -> 3 Conv2DBlocks     (c2, H/4)
                          (2b->b, b->b, b->b) -> ConvT(b->c2)
    decoder2_upsampler    cat[skip2 (c2), .] -> Conv(2c2->c2),    (c1, H/2)
                          Conv(c2->c2) -> ConvT(c2->c1)
    decoder1_upsampler    cat[skip1 (c1), .] -> Conv(2c1->c1),    (c0, H)
                          Conv(c1->c1) -> ConvT(c1->c0)
    decoder0_header       cat[skip0 (c0), .] -> Conv(2c0->c0),    (k, H)
                          Conv(c0->c0) -> 1x1 Conv(c0->k)
    ====================  ======================================  ==========

    Args:
        in_channels (int): Channels ``D`` of the bottleneck feature.
        bottleneck_channels (int): ``b``.
        out_channels (int): ``k``, channels of the branch output.
        bottleneck_block (str): ``'convtranspose'`` or ``'deconv_block'``.
        decoder_channels (Sequence[int]): ``(c0, c1, c2)``. Defaults to
            ``(64, 128, 256)``.
        norm_cfg, act_cfg, drop_rate: as :class:`Conv2DBlock`.
    """

    BOTTLENECK_BLOCKS = ('convtranspose', 'deconv_block')

    def __init__(self,
                 in_channels: int,
                 bottleneck_channels: int,
                 out_channels: int,
                 bottleneck_block: str = 'convtranspose',
                 decoder_channels: Sequence[int] = (64, 128, 256),
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 drop_rate: float = 0.) -> None:
        super().__init__()
        if bottleneck_block not in self.BOTTLENECK_BLOCKS:
            raise ValueError('HoVerBranchDecoder: bottleneck_block must be '
                             f'one of {self.BOTTLENECK_BLOCKS}, got '
                             f'{bottleneck_block!r}.')
        cfg = dict(norm_cfg=norm_cfg, act_cfg=act_cfg, drop_rate=drop_rate)
        b = bottleneck_channels
        c0, c1, c2 = decoder_channels
        if bottleneck_block == 'convtranspose':
            self.bottleneck_upsampler = _upsample(in_channels, b)
        else:
            self.bottleneck_upsampler = Deconv2DBlock(in_channels, b, **cfg)
        self.decoder3_upsampler = nn.Sequential(
            Conv2DBlock(2 * b, b, **cfg), Conv2DBlock(b, b, **cfg),
            Conv2DBlock(b, b, **cfg), _upsample(b, c2))
        self.decoder2_upsampler = nn.Sequential(
            Conv2DBlock(2 * c2, c2, **cfg), Conv2DBlock(c2, c2, **cfg),
            _upsample(c2, c1))
        self.decoder1_upsampler = nn.Sequential(
            Conv2DBlock(2 * c1, c1, **cfg), Conv2DBlock(c1, c1, **cfg),
            _upsample(c1, c0))
        self.decoder0_header = nn.Sequential(
            Conv2DBlock(2 * c0, c0, **cfg), Conv2DBlock(c0, c0, **cfg),
            nn.Conv2d(c0, out_channels, kernel_size=1))

    def forward(self, bottleneck: Tensor, skips: List[Tensor]) -> Tensor:
        """Decode one branch.

        Args:
            bottleneck (Tensor): ``(B, D, H/16, W/16)``.
            skips (list[Tensor]): ``[s0 (B, c0, H, W), s1 (B, c1, H/2, W/2),
                s2 (B, c2, H/4, W/4), s3 (B, b, H/8, W/8)]``; concatenation
                order is always ``[skip, upsampled]``.

        Returns:
            Tensor: ``(B, k, H, W)`` raw outputs (logits or regression).
        """
        s0, s1, s2, s3 = skips
        x = self.bottleneck_upsampler(bottleneck)
        x = self.decoder3_upsampler(_cat(s3, x))
        x = self.decoder2_upsampler(_cat(s2, x))
        x = self.decoder1_upsampler(_cat(s1, x))
        return self.decoder0_header(_cat(s0, x))


def _cat(skip: Tensor, up: Tensor) -> Tensor:
    """``cat([skip, up], dim=1)`` with a readable error on a size mismatch
    (input sides must be multiples of 16)."""
    if skip.shape[-2:] != up.shape[-2:]:
        raise ValueError(
            f'CellViT decoder: skip feature {tuple(skip.shape)} and upsampled '
            f'feature {tuple(up.shape)} differ in size; input height and '
            'width must be multiples of 16 and the backbone features must be '
            'at the strides the skip mode expects.')
    return torch.cat([skip, up], dim=1)
