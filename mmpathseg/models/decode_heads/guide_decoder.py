# Copyright (c) mmpathseg contributors. All rights reserved.
"""The guide decoder of Ariadne's Thread; with ``TextMoE`` projections it is
MLMoE's decoder."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import (ConfigType, MultiConfig,
                                          OptConfigType, OptMultiConfig,
                                          SampleList)
from .guide_layer import GuideLayer
from .guide_up_blocks import SubpixelUpsample, UpBlock


@MODELS.register_module()
class GuideDecoderHead(BaseModule):
    """Three text-guided up stages, a subpixel up-sampler and a one-channel
    logit map.

    With encoder stages ``F1..F4`` (strides 4, 8, 16, 32; widths
    ``in_channels``), stage ``k`` (from the deepest) takes the running
    visual map ``X`` (``X = F4`` first), fuses text into its tokens with a
    :class:`GuideLayer` (and, when configured, a bottleneck adapter), and up
    samples it onto the next shallower skip with an :class:`UpBlock`::

        X(768 @ /32) -guide(L=24)-> up + F3 -> 384 @ /16
                     -guide(L=12)-> up + F2 -> 192 @ /8
                     -guide(L=9) -> up + F1 ->  96 @ /4 -> subpixel x4 -> 1x1

    Without text (``text=None``) the guide layers are skipped, Ariadne's
    text-free path. Spatial sizes come from the tensors, not from a fixed
    224 input.

    Args:
        in_channels (Sequence[int]): Encoder widths, shallow to deep.
            Defaults to ConvNeXt-T's ``(96, 192, 384, 768)``.
        text_channels (int): Text width ``D``. Defaults to 768.
        text_len (int): Input text tokens ``L``. Defaults to 24.
        stage_text_lens (Sequence[int]): Projected text tokens per guide
            stage, deep to shallow. Defaults to ``(24, 12, 9)``.
        text_projection (dict): Per-stage projection config without
            ``out_channels``/``out_len`` (filled per stage):
            ``GuideTextProjection`` (Ariadne) or ``TextMoE`` (MLMoE).
        guide_stages (Sequence[int]): Which of the three stages (0 = the
            deepest) fuse text. Defaults to all.
        sa_heads / ca_heads (int): Attention heads. Defaults to 1 / 4.
        alpha_init (float): Initial cross-attention scale. Defaults to 1.421.
        adapter (dict, optional): ``BottleneckAdapter`` config applied to the
            fused tokens of every guide stage (text-absent stage).
        head_channels (int): Width after the subpixel up-sampler. Defaults
            to 24.
        upsample_scale (int): Subpixel factor. Defaults to 4.
        norm_cfg (dict): Norm of the up blocks. Defaults to BN.
        loss_decode (dict | list[dict]): Segmentation losses on the
            ``(B, 1, H, W)`` logits against the ``(B, H, W)`` 0/1 target.
        loss_diversity (dict, optional): Loss on the list of gate weights
            (``GateDiversityLoss``); used only when gates exist.
        ignore_index (int): Defaults to 255.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (96, 192, 384, 768),
                 text_channels: int = 768,
                 text_len: int = 24,
                 stage_text_lens: Sequence[int] = (24, 12, 9),
                 text_projection: ConfigType = dict(
                     type='GuideTextProjection'),
                 guide_stages: Sequence[int] = (0, 1, 2),
                 sa_heads: int = 1,
                 ca_heads: int = 4,
                 alpha_init: float = 1.421,
                 adapter: OptConfigType = None,
                 head_channels: int = 24,
                 upsample_scale: int = 4,
                 norm_cfg: ConfigType = dict(type='BN'),
                 loss_decode: MultiConfig = [
                     dict(type='SoftDiceLoss', loss_name='loss_dice')
                 ],
                 loss_diversity: OptConfigType = None,
                 ignore_index: int = 255,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(in_channels)
        if len(in_channels) != 4:
            raise ValueError('GuideDecoderHead: in_channels must list the 4 '
                             f'encoder stage widths, got {in_channels}.')
        if len(stage_text_lens) != 3:
            raise ValueError('GuideDecoderHead: stage_text_lens needs one '
                             f'length per guide stage (3), got '
                             f'{stage_text_lens}.')
        bad = [s for s in guide_stages if s not in (0, 1, 2)]
        if bad:
            raise ValueError(f'GuideDecoderHead: guide_stages must be in '
                             f'(0, 1, 2), got {list(guide_stages)}.')
        self.in_channels = in_channels
        self.guide_stages = tuple(sorted(set(guide_stages)))
        self.ignore_index = ignore_index
        deep_to_shallow = in_channels[::-1]  # 768, 384, 192, 96
        self.guides = nn.ModuleDict()
        self.adapters = nn.ModuleDict()
        for stage in self.guide_stages:
            channels = deep_to_shallow[stage]
            self.guides[str(stage)] = GuideLayer(
                channels,
                dict(
                    text_projection,
                    text_channels=text_channels,
                    text_len=text_len,
                    out_len=stage_text_lens[stage]),
                sa_heads=sa_heads,
                ca_heads=ca_heads,
                alpha_init=alpha_init)
            if adapter is not None:
                self.adapters[str(stage)] = MODELS.build(
                    dict(adapter, channels=channels))
        self.ups = nn.ModuleList(
            UpBlock(deep_to_shallow[i], deep_to_shallow[i + 1], norm_cfg)
            for i in range(3))
        self.subpixel = SubpixelUpsample(in_channels[0], head_channels,
                                         upsample_scale)
        self.conv_seg = nn.Conv2d(head_channels, 1, kernel_size=1)
        losses = loss_decode if isinstance(loss_decode,
                                           (list, tuple)) else [loss_decode]
        self.loss_decode = nn.ModuleList(MODELS.build(c) for c in losses)
        self.loss_diversity = MODELS.build(
            loss_diversity) if loss_diversity is not None else None

    @property
    def has_adapter(self) -> bool:
        return len(self.adapters) > 0

    def forward(self,
                feats: Sequence[Tensor],
                text: Optional[Tensor] = None,
                text_mask: Optional[Tensor] = None,
                use_adapter: bool = True) -> Dict[str, object]:
        """Decode.

        Args:
            feats (Sequence[Tensor]): 4 maps ``(B, C_i, H/s_i, W/s_i)``,
                strides 4, 8, 16, 32.
            text (Tensor, optional): ``(B, L, D)`` text features (real text,
                a fixed sentence or the virtual prompt); None skips fusion.
            text_mask (Tensor, optional): ``(B, L)`` attention mask.
            use_adapter (bool): Apply the adapters (False is the teacher
                pass of the distillation stage). Defaults to True.

        Returns:
            dict: ``logits`` ``(B, 1, 4 H/4, 4 W/4)`` (pre-sigmoid),
            ``fused`` list of ``(B, N_k, C_k)`` fused tokens per guide stage
            (after the adapter), ``gates`` list of ``(B, E)`` gate weights of
            MoE stages.
        """
        if len(feats) != 4:
            raise ValueError('GuideDecoderHead: expected 4 encoder maps, got '
                             f'{len(feats)}.')
        skips = list(feats)[::-1]
        x = skips[0]
        fused, gates = [], []
        for stage in range(3):
            if text is not None and str(stage) in self.guides:
                b, c, h, w = x.shape
                tokens = x.flatten(2).transpose(1, 2)
                out = self.guides[str(stage)](tokens, text, text_mask)
                tokens = out['fused']
                if use_adapter and str(stage) in self.adapters:
                    tokens = self.adapters[str(stage)](tokens)
                fused.append(tokens)
                if out['gates'] is not None:
                    gates.append(out['gates'])
                x = tokens.transpose(1, 2).reshape(b, c, h, w)
            x = self.ups[stage](x, skips[stage + 1])
        logits = self.conv_seg(self.subpixel(x))
        return dict(logits=logits, fused=fused, gates=gates)

    @staticmethod
    def _targets(data_samples: SampleList) -> Tensor:
        return torch.stack(
            [s.gt_sem_seg.data[0] for s in data_samples]).long()

    def loss_by_feat(self, outputs: Dict[str, object],
                     data_samples: SampleList,
                     with_diversity: bool = True) -> Dict[str, Tensor]:
        """Segmentation losses (and the gate diversity loss).

        The logits are resized to the target size when they differ.
        Returns a dict of ``loss_*`` entries; ``gate_tau`` style figures are
        added by the segmentor.
        """
        logits = outputs['logits']
        target = self._targets(data_samples).to(logits.device)
        if logits.shape[-2:] != target.shape[-2:]:
            logits = F.interpolate(
                logits, target.shape[-2:], mode='bilinear',
                align_corners=False)
        losses = {}
        for loss in self.loss_decode:
            value = loss(logits, target, ignore_index=self.ignore_index)
            losses[loss.loss_name] = losses.get(loss.loss_name, 0) + value
        if with_diversity and self.loss_diversity is not None and \
                outputs['gates']:
            losses[self.loss_diversity.loss_name] = self.loss_diversity(
                outputs['gates'])
        return losses

    def gate_temperatures(self) -> List[Tensor]:
        """The ``tau`` of every MoE stage (for logging)."""
        return [
            m.temperature.detach() for m in self.modules()
            if hasattr(m, 'temperature') and isinstance(
                getattr(type(m), 'temperature', None), property)
        ]
