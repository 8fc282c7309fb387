# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellVTA: a ViT-Adapter-style CNN adapter around a plain ViT.

A spatial prior module (CNN at 1/2..1/16) feeds adapter tokens at 1/4, 1/8,
1/16; four interaction stages each inject them into the ViT tokens
(deformable cross-attention), run a quarter of the ViT's blocks and extract
ViT information back into the adapter tokens (deformable cross-attention +
ConvFFN; two extra extractors in the last stage). The 1/2 map is the SPM's
c1 plus a 2x2 transposed conv of the 1/4 map; each level gets the stage's
ViT output added (bilinear upsampling) and its own BatchNorm.

The ViT is any module with the adapter protocol
(:mod:`.vit_protocol`): ``vit=dict(type='UNIViT', arch='large', ...)`` as
CellVTA, or ``vit=dict(type='SAMViT', arch='vit-l')``.

Reference quirks, as switches (defaults reproduce the reference, because
they change reported numbers or the starting point of training):

* ``cls_token_through_blocks=False``: CellVTA runs the ViT blocks on the
  patch tokens only and re-attaches the untouched class token, so the tissue
  head sees a constant ``LN(cls_token + pos_embed[0])``. True passes it
  through the blocks (ViT-Adapter's ``InteractionBlockWithCls``). No effect
  on SAM ViTs (no class token; their tissue input is the neck mean).
* ``reinit_deform_attn_linear=True``: CellVTA's timm-style init re-draws
  every ``nn.Linear`` of the adapter (trunc-normal 0.02, zero bias) after the
  deformable-attention init, wiping its polar sampling grid and uniform
  attention. False keeps the Deformable-DETR init.
* ``init_values=1e-5``: initial injector ``gamma`` (CellVTA passes its
  LayerScale value); the paper and ViT-Adapter's default say 0.
* ``frozen_eval=False``: the frozen ViT stays in train mode, so its
  stochastic depth (``drop_path_rate=0.4`` in CellVTA's ViT) stays active,
  as in the reference.
"""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import ConfigType, OptMultiConfig
from .adapter import (InteractionBlock, MSDeformAttn, SpatialPriorModule,
                      level_layout, reference_points, split_levels)
from .vit_protocol import check_adaptable_vit, nchw


def default_interaction_indexes(num_layers: int) -> List[List[int]]:
    """Four equal stretches of blocks, first and last index inclusive.

    12 blocks: ``[[0, 2], [3, 5], [6, 8], [9, 11]]`` (ViT-Adapter T/S/B);
    24: ``[[0, 5], [6, 11], [12, 17], [18, 23]]`` (CellVTA's UNI ViT-L);
    32: ``[[0, 7], [8, 15], [16, 23], [24, 31]]`` (ViT-H / SAM-H).
    """
    if num_layers % 4:
        raise ValueError(
            f'CellVTAAdapter: cannot split {num_layers} ViT blocks into 4 '
            'equal interaction stages; give interaction_indexes, e.g. '
            '[[0, 5], [6, 11], [12, 17], [18, 23]].')
    step = num_layers // 4
    return [[i * step, (i + 1) * step - 1] for i in range(4)]


def _vit_adapter_init(module: nn.Module) -> None:
    """ViT-Adapter's init: trunc-normal Linear, unit norms, He-style
    (fan-out) normal convs, zero biases."""
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.LayerNorm, nn.modules.batchnorm._BatchNorm)):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        fan_out = module.kernel_size[0] * module.kernel_size[1] * \
            module.out_channels // module.groups
        nn.init.normal_(module.weight, 0, math.sqrt(2.0 / fan_out))
        if module.bias is not None:
            nn.init.zeros_(module.bias)


@MODELS.register_module()
class CellVTAAdapter(BaseModule):
    """CellVTA encoder: ViT + CNN adapter with deformable interactions.

    Args:
        vit (dict): Config of a ViT with the adapter protocol (``UNIViT``,
            ``SAMViT``); its ``init_cfg`` loads its pretrained weights.
        conv_inplane (int): SPM stem width. Defaults to 64.
        num_points (int): Deformable sampling points. Defaults to 4.
        deform_num_heads (int): Deformable heads. Defaults to 8 (CellVTA;
            ViT-Adapter uses 16 for ViT-L).
        deform_ratio (float): Deformable value width ratio. Defaults to 0.5.
        with_cffn (bool): ConvFFN in the extractors. Defaults to True.
        cffn_ratio (float): ConvFFN hidden ratio. Defaults to 0.25.
        use_extra_extractor (bool): Two extra extractors in the last stage.
            Defaults to True.
        interaction_indexes (Sequence[Sequence[int]], optional): ``[first,
            last]`` block of each stage, covering all blocks in order; None
            splits the ViT into 4 equal stages (12-, 24-, 32-block ViTs).
        drop_path_rate (float): Stochastic depth on the ConvFFN branch of
            every extractor (constant, not a ramp). Defaults to 0.4.
        init_values (float): Initial injector ``gamma``. Defaults to 1e-5.
        add_vit_feature (bool): Add the stage outputs of the ViT to the
            levels. Defaults to True (the reference always adds them).
        with_cp (bool): Gradient checkpointing of SPM, injectors and
            extractors. Defaults to False.
        norm_cfg (dict): Norm of the SPM and of the four output levels.
            Defaults to ``dict(type='BN')``.
        cls_token_through_blocks (bool): See the module docstring. Defaults
            to False (reference).
        reinit_deform_attn_linear (bool): See the module docstring. Defaults
            to True (reference).
        freeze_vit (bool): Freeze the ViT trunk (patch embedding, class
            token, position embedding, blocks); its final norm / neck stays
            trainable. Defaults to True (CellVTA never unfreezes).
        frozen_eval (bool): Run the frozen ViT in eval mode. Defaults to
            False (reference: stochastic depth stays on).
        im2col_step (int): CUDA deformable-attention chunk. Defaults to 64.
        init_cfg (dict | list, optional): Initialisation config.

    Returns of ``forward(inputs (B, 3, H, W))`` (H, W multiples of 16):
    ``(feats, cls_token)`` with ``feats = [f1 (B, D, H/2, W/2),
    f2 (B, D, H/4, W/4), f3 (B, D, H/8, W/8), f4 (B, D, H/16, W/16)]``
    (BatchNorm outputs) and ``cls_token`` the ViT's head token
    (``(B, cls_channels)``: the final-normed class token for UNI, the neck
    mean for SAM).
    """

    def __init__(self,
                 vit: ConfigType,
                 conv_inplane: int = 64,
                 num_points: int = 4,
                 deform_num_heads: int = 8,
                 deform_ratio: float = 0.5,
                 with_cffn: bool = True,
                 cffn_ratio: float = 0.25,
                 use_extra_extractor: bool = True,
                 interaction_indexes: Optional[Sequence[Sequence[int]]] = None,
                 drop_path_rate: float = 0.4,
                 init_values: float = 1e-5,
                 add_vit_feature: bool = True,
                 with_cp: bool = False,
                 norm_cfg: ConfigType = dict(type='BN'),
                 cls_token_through_blocks: bool = False,
                 reinit_deform_attn_linear: bool = True,
                 freeze_vit: bool = True,
                 frozen_eval: bool = False,
                 im2col_step: int = 64,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self.vit = MODELS.build(vit)
        check_adaptable_vit(self.vit, type(self).__name__)
        if self.vit.patch_size != 16:
            raise ValueError(
                'CellVTAAdapter: the SPM levels 1/4, 1/8, 1/16 assume a '
                f'ViT patch size of 16, got {self.vit.patch_size}.')
        self.embed_dims = dims = self.vit.embed_dims
        self.cls_channels = self.vit.cls_channels
        self.interaction_indexes = self._check_indexes(
            default_interaction_indexes(self.vit.num_layers)
            if interaction_indexes is None else interaction_indexes)
        self.add_vit_feature = add_vit_feature
        self.cls_token_through_blocks = cls_token_through_blocks
        self.reinit_deform_attn_linear = reinit_deform_attn_linear

        self.level_embed = nn.Parameter(torch.zeros(3, dims))
        self.spm = SpatialPriorModule(
            dims, conv_inplane, norm_cfg=norm_cfg, with_cp=with_cp)
        num_stages = len(self.interaction_indexes)
        self.interactions = nn.ModuleList([
            InteractionBlock(
                dims,
                num_heads=deform_num_heads,
                num_points=num_points,
                deform_ratio=deform_ratio,
                with_cffn=with_cffn,
                cffn_ratio=cffn_ratio,
                drop_path=drop_path_rate,
                init_values=init_values,
                extra_extractor=use_extra_extractor and i == num_stages - 1,
                with_cp=with_cp,
                im2col_step=im2col_step) for i in range(num_stages)
        ])
        self.up = nn.ConvTranspose2d(dims, dims, 2, 2)
        for i in range(1, 5):
            self.add_module(f'norm{i}', build_norm_layer(norm_cfg, dims)[1])
        self._init_adapter_weights()

        if freeze_vit:
            self.vit.freeze(trunk_only=True, eval_mode=frozen_eval)

    def _check_indexes(self, indexes) -> List[List[int]]:
        indexes = [[int(a), int(b)] for a, b in indexes]
        expected_start = 0
        for first, last in indexes:
            if first != expected_start or last < first:
                break
            expected_start = last + 1
        else:
            if expected_start == self.vit.num_layers and len(indexes) == 4:
                return indexes
        raise ValueError(
            f'CellVTAAdapter: interaction_indexes {indexes} must be 4 '
            'consecutive [first, last] block ranges covering blocks 0..'
            f'{self.vit.num_layers - 1} of the ViT, e.g. 24 blocks: '
            '[[0, 5], [6, 11], [12, 17], [18, 23]].')

    def _init_adapter_weights(self) -> None:
        """The reference's order: ViT-Adapter init of SPM, interactions and
        ``up``; Deformable-DETR init of every MSDA; ``level_embed`` ~ N(0, 1);
        then (``reinit_deform_attn_linear``) timm's trunc-normal(0.02) /
        zero-bias re-init of every Linear, which wipes the MSDA grid."""
        adapter_parts = (self.spm, self.interactions, self.up)
        for part in adapter_parts:
            part.apply(_vit_adapter_init)
        for module in self.interactions.modules():
            if isinstance(module, MSDeformAttn):
                module.reset_parameters()
        nn.init.normal_(self.level_embed)
        if self.reinit_deform_attn_linear:
            for part in adapter_parts:
                for module in part.modules():
                    if isinstance(module, nn.Linear):
                        trunc_normal_(module.weight, std=.02)
                        if module.bias is not None:
                            nn.init.zeros_(module.bias)

    @staticmethod
    def _deform_inputs(grid: Tuple[int, int], c_shapes, device
                       ) -> Tuple[tuple, tuple]:
        """Injector: ViT-grid queries on the 3 adapter levels; extractor:
        adapter-level queries on the one ViT level."""
        inject = (reference_points([grid], device),
                  *level_layout(c_shapes, device))
        extract = (reference_points(c_shapes, device),
                   *level_layout([grid], device))
        return inject, extract

    def forward(self, inputs: torch.Tensor
                ) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        """Args: inputs ``(B, 3, H, W)``. Returns ``(feats, cls_token)``
        (see the class docstring)."""
        height, width = inputs.shape[-2:]
        if height % 16 or width % 16:
            raise ValueError(
                f'CellVTAAdapter: input {height}x{width} must be a multiple '
                'of 16; pad or crop the images.')
        grid = (height // 16, width // 16)
        c1, c2, c3, c4 = self.spm(inputs)
        c_maps = [c2, c3, c4]
        c_shapes = [tuple(m.shape[-2:]) for m in c_maps]
        c = torch.cat([
            m.flatten(2).transpose(1, 2) + self.level_embed[i]
            for i, m in enumerate(c_maps)
        ], dim=1)
        inject, extract = self._deform_inputs(grid, c_shapes, inputs.device)

        x, cls = self.vit.embed(inputs)
        block_cls = cls if self.cls_token_through_blocks else None
        stage_outs = []
        for stage, block_range in zip(self.interactions,
                                      self.interaction_indexes):
            x, block_cls, c = stage(x, block_cls, c, self.vit, block_range,
                                    inject, extract, c_shapes)
            stage_outs.append(nchw(x))
        head_token = self.vit.head_token(
            x, block_cls if self.cls_token_through_blocks else cls)

        c2, c3, c4 = split_levels(c, c_shapes)
        c1 = self.up(c2) + c1
        levels = [c1, c2, c3, c4]
        if self.add_vit_feature:
            for i, (scale, vit_feat) in enumerate(zip((8, 4, 2, 1),
                                                      stage_outs)):
                if scale > 1:
                    vit_feat = F.interpolate(
                        vit_feat,
                        scale_factor=scale,
                        mode='bilinear',
                        align_corners=False)
                levels[i] = levels[i] + vit_feat
        feats = [getattr(self, f'norm{i + 1}')(level)
                 for i, level in enumerate(levels)]
        return feats, head_token
