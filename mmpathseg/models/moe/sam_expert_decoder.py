# Copyright (c) mmpathseg contributors. All rights reserved.
"""One SAM mask decoder driven by prompt embeddings (LISA/GSVA's decoder and
one expert of LTSE's Adaptive Expert Mixture)."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig

__all__ = ['SAMExpertDecoder']


@MODELS.register_module()
class SAMExpertDecoder(BaseModule):
    """``segment_anything.modeling.MaskDecoder`` with a two-way transformer,
    used with ``multimask_output=False``.

    The submodule is named ``decoder`` so an official SAM checkpoint's
    ``mask_decoder.*`` entries load as ``decoder.*``.

    Args:
        transformer_dim (int): Prompt/image embedding width (SAM: 256).
        depth (int): Two-way transformer depth (SAM: 2).
        mlp_dim (int): Transformer MLP width (SAM: 2048).
        num_heads (int): Attention heads (SAM: 8).
        num_multimask_outputs (int): SAM: 3 (only the single-mask token is
            used, the others stay for weight compatibility).
        iou_head_depth (int): SAM: 3.
        iou_head_hidden_dim (int): SAM: 256.
    """

    def __init__(self,
                 transformer_dim: int = 256,
                 depth: int = 2,
                 mlp_dim: int = 2048,
                 num_heads: int = 8,
                 num_multimask_outputs: int = 3,
                 iou_head_depth: int = 3,
                 iou_head_hidden_dim: int = 256,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        from segment_anything.modeling import MaskDecoder, TwoWayTransformer
        self.transformer_dim = transformer_dim
        self.decoder = MaskDecoder(
            transformer_dim=transformer_dim,
            transformer=TwoWayTransformer(
                depth=depth,
                embedding_dim=transformer_dim,
                mlp_dim=mlp_dim,
                num_heads=num_heads),
            num_multimask_outputs=num_multimask_outputs,
            iou_head_depth=iou_head_depth,
            iou_head_hidden_dim=iou_head_hidden_dim)

    def forward(self, image_embeddings: Tensor, image_pe: Tensor,
                sparse: Tensor, dense: Tensor) -> Dict[str, Optional[Tensor]]:
        """
        Args:
            image_embeddings (Tensor): ``(1, C, h, w)`` SAM image embedding
                of one image.
            image_pe (Tensor): ``(1, C, h, w)`` dense positional encoding.
            sparse (Tensor): ``(N, T, C)`` prompt tokens of its N targets.
            dense (Tensor): ``(1, C, h, w)`` dense prompt (no-mask) embedding.

        Returns:
            dict: ``masks`` ``(N, 1, 4h, 4w)`` logits, ``iou`` ``(N, 1)``,
            ``gate_weights`` None.
        """
        masks, iou = self.decoder(
            image_embeddings=image_embeddings,
            image_pe=image_pe,
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=False)
        return dict(masks=masks, iou=iou, gate_weights=None)
