# Copyright (c) mmpathseg contributors. All rights reserved.
"""SyncSAM's synchronized dual-branch image encoder, and SAM's own encoder
as its CNN-free special case."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import ConfigType, OptConfigType, \
    OptMultiConfig
from .syncsam_projection import TokenProjection
from .vit_protocol import nchw

FUSION_MODES = ('sync', 'single', 'none')


@MODELS.register_module()
class SyncSAMEncoder(BaseModule):
    """Frozen SAM ViT + trainable CNN fused stage by stage.

    The ViT's blocks form one stage per global-attention block: the windowed
    blocks since the previous global block, then the global block (ViT-B:
    ``[0, 1 | 2]``, ``[3, 4 | 5]``, ``[6, 7 | 8]``, ``[9, 10 | 11]``). With
    ``fusion='sync'`` the CNN's stage-``i`` feature, projected onto the token
    grid (:class:`TokenProjection`), is **added to the tokens right before
    the global block of stage i**; the fused map is the global block's input.
    After the last stage SAM's neck gives the image embedding.

    ``fusion='single'`` is the paper's single-step ablation (Table 5, row
    11). The paper does not define it further; here the ViT runs untouched
    and the **sum** of the four projected CNN features is added once, before
    the last global block, so both variants have the same parameters and
    differ only in where the CNN enters (a reconstruction: see
    configs/syncsam/README.md). ``fusion='none'`` (or ``cnn=None``) is SAM's
    plain image encoder.

    Gradients flow *through* the frozen ViT blocks into the CNN and the
    projections.

    Args:
        vit (dict): A ``SAMViT`` (or ``SAMAdapterViT``) config; it must keep
            its neck. SyncSAM: ``arch='vit-b', img_size=256, frozen=True``.
        cnn (dict, optional): A CNN returning 4 stage features, e.g. mmseg
            ``ResNet(depth=50, out_indices=(0, 1, 2, 3))``.
        cnn_channels (Sequence[int], optional): Channels of the 4 CNN
            features (RN50: 256, 512, 1024, 2048; RN34: 64, 128, 256, 512).
        cnn_strides (Sequence[int]): Their strides. Defaults to
            (4, 8, 16, 32).
        fusion (str): ``'sync'``, ``'single'`` or ``'none'``. Defaults to
            'sync'.
        multi_scale (dict, optional): A :class:`MultiScaleFusion` config fed
            with the outputs of all stages but the last; its output is
            returned as the second element.
        zero_init_projections (bool): Start the projections at zero (plain
            SAM at step 0). Defaults to False (the reference).
        init_cfg (dict, optional): Initialisation config.

    ``forward(inputs (B, 3, H, W))`` returns ``(embedding, hq_feature)``:
    ``(B, 256, H/16, W/16)`` and ``(B, 32, H/4, W/4)`` (None without
    ``multi_scale``).
    """

    def __init__(self,
                 vit: ConfigType,
                 cnn: OptConfigType = None,
                 cnn_channels: Optional[Sequence[int]] = None,
                 cnn_strides: Sequence[int] = (4, 8, 16, 32),
                 fusion: str = 'sync',
                 multi_scale: OptConfigType = None,
                 zero_init_projections: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if fusion not in FUSION_MODES:
            raise ValueError(f'SyncSAMEncoder: fusion must be one of '
                             f'{FUSION_MODES}, got {fusion!r}.')
        self.vit = MODELS.build(vit)
        if getattr(self.vit, 'neck', None) is None:
            raise ValueError('SyncSAMEncoder: the ViT needs its neck '
                             '(with_neck=True): it makes the embedding.')
        self.global_indexes = tuple(self.vit.global_attn_indexes)
        self.fusion = fusion if cnn is not None else 'none'
        if cnn is not None and fusion == 'none':
            raise ValueError('SyncSAMEncoder: a CNN is configured but '
                             "fusion='none'; drop `cnn` or pick a fusion.")
        self.cnn = MODELS.build(cnn) if cnn is not None else None
        self.projections = None
        if self.cnn is not None:
            if cnn_channels is None or len(cnn_channels) != len(
                    self.global_indexes) or len(cnn_strides) != len(
                        cnn_channels):
                raise ValueError(
                    'SyncSAMEncoder: give `cnn_channels` and `cnn_strides` '
                    f'for one CNN feature per ViT stage '
                    f'({len(self.global_indexes)} global blocks at '
                    f'{self.global_indexes}), got {cnn_channels} / '
                    f'{tuple(cnn_strides)}.')
            patch = self.vit.patch_size
            self.projections = nn.ModuleList([
                TokenProjection(c, self.vit.embed_dims, patch / s,
                                zero_init_projections)
                for c, s in zip(cnn_channels, cnn_strides)
            ])
        self.multi_scale = MODELS.build(multi_scale) \
            if multi_scale is not None else None

    @property
    def frozen_vit(self) -> bool:
        """True when no ViT parameter outside adapters trains."""
        return not any(p.requires_grad
                       for n, p in self.vit.named_parameters()
                       if 'Adapter' not in n)

    def _projected(self, inputs: torch.Tensor,
                   grid: Tuple[int, int]) -> List[torch.Tensor]:
        feats = self.cnn(inputs)
        out = []
        for index, (proj, feat) in enumerate(zip(self.projections, feats)):
            tokens = proj(feat)
            if tuple(tokens.shape[-2:]) != tuple(grid):
                raise ValueError(
                    f'SyncSAMEncoder: CNN stage {index + 1} projects to '
                    f'{tuple(tokens.shape[-2:])} but the token grid is '
                    f'{tuple(grid)}; use inputs whose sides are multiples '
                    'of the largest CNN stride (32).')
            out.append(tokens.permute(0, 2, 3, 1))
        return out

    def forward(self, inputs: torch.Tensor
                ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """See the class docstring."""
        tokens, _ = self.vit.embed(inputs)
        projected = self._projected(inputs, tokens.shape[1:3]) \
            if self.cnn is not None else None
        taps = []
        start = 0
        last = len(self.global_indexes) - 1
        for stage, index in enumerate(self.global_indexes):
            tokens, _ = self.vit.forward_blocks(tokens, None, start, index)
            if self.fusion == 'sync':
                tokens = tokens + projected[stage]
            elif self.fusion == 'single' and stage == last:
                tokens = tokens + sum(projected)
            tokens, _ = self.vit.forward_blocks(tokens, None, index,
                                                index + 1)
            taps.append(tokens)
            start = index + 1
        if start < self.vit.num_layers:
            tokens, _ = self.vit.forward_blocks(tokens, None, start,
                                                self.vit.num_layers)
        embedding = self.vit.neck(nchw(tokens))
        hq = None
        if self.multi_scale is not None:
            hq = self.multi_scale(embedding, [nchw(t) for t in taps[:-1]])
        return embedding, hq


@MODELS.register_module()
class SAMImageEncoder(SyncSAMEncoder):
    """SAM's image encoder (ViT + neck) for the promptable segmentor:
    :class:`SyncSAMEncoder` without CNN. ``forward`` returns ``(embedding
    (B, 256, H/16, W/16), None)``, or the multi-scale feature as second
    element when ``multi_scale`` is given (SAM-HQ-style decoders).

    Args:
        vit (dict): ``SAMViT`` / ``SAMAdapterViT`` config with its neck.
        multi_scale (dict, optional): :class:`MultiScaleFusion` config.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 vit: ConfigType,
                 multi_scale: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            vit=vit, cnn=None, multi_scale=multi_scale, init_cfg=init_cfg)
