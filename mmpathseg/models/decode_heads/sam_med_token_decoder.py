# Copyright (c) mmpathseg contributors. All rights reserved.
"""SyncSAM's mask decoder: a Med-Output token and the multi-scale feature."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import ConfigType, OptMultiConfig
from .sam_head_base import BaseSAMMaskHead
from .sam_mask_decoder import build_two_way_transformer


@MODELS.register_module()
class MedTokenMaskDecoder(BaseSAMMaskHead):
    """SAM's two-way transformer with one Med-Output token (SyncSAM).

    The token sequence is ``[med_token] + sparse prompts``: SAM's IoU token
    and four mask tokens are not used at all, so there is no IoU head, no
    multimask output and no IoU loss. After the transformer::

        up   = output_upscaling(src)                       (M, C/8, 4h, 4w)
        feat = embedding_maskfeature(up) + hq_feature      (M, C/8, 4h, 4w)
        mask = hf_mlp(token) . feat                        (M, 1, 4h, 4w)

    ``hq_feature`` is the encoder's multi-scale fusion output (SyncSAM) and
    may be None (the "no multi-scale" ablation rows). ``transformer`` and
    ``output_upscaling`` carry SAM's official names and weights; the new
    parts are ``med_token`` (``Embedding(1, C)``, N(0, 1) init), ``hf_mlp``
    (C -> C -> C -> C/8, ReLU) and ``embedding_maskfeature`` (3x3 conv C/8
    -> C/4, LayerNorm2d, GELU, 3x3 conv -> C/8): 177K parameters at C = 256.

    The paper's 48M / 26M trainable parameters match a frozen SAM decoder
    (``frozen=('transformer', 'output_upscaling')``, the default); whether
    the 74K ``output_upscaling`` trains is not knowable from the counts.

    Args:
        embed_dims (int): Defaults to 256.
        depth (int): Defaults to 2.
        num_heads (int): Defaults to 8.
        mlp_dims (int): Defaults to 2048.
        frozen (Sequence[str]): Parts to freeze. Defaults to
            ('transformer', 'output_upscaling').
        loss_decode (dict | list): Defaults to SyncSAM's 20 x Dice (pooled
            over the batch) + focal.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int = 256,
                 depth: int = 2,
                 num_heads: int = 8,
                 mlp_dims: int = 2048,
                 frozen: Sequence[str] = ('transformer', 'output_upscaling'),
                 loss_decode: ConfigType = [
                     dict(type='MaskDiceLoss', loss_weight=20.0),
                     dict(type='MaskFocalLoss', loss_weight=1.0)
                 ],
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(loss_decode=loss_decode, init_cfg=init_cfg)
        from segment_anything.modeling.common import LayerNorm2d
        from segment_anything.modeling.mask_decoder import MLP
        self.transformer = build_two_way_transformer(embed_dims, depth,
                                                     num_heads, mlp_dims)
        self.output_upscaling = nn.Sequential(
            nn.ConvTranspose2d(embed_dims, embed_dims // 4, 2, stride=2),
            LayerNorm2d(embed_dims // 4), nn.GELU(),
            nn.ConvTranspose2d(embed_dims // 4, embed_dims // 8, 2, stride=2),
            nn.GELU())
        self.med_token = nn.Embedding(1, embed_dims)
        self.hf_mlp = MLP(embed_dims, embed_dims, embed_dims // 8, 3)
        self.embedding_maskfeature = nn.Sequential(
            nn.Conv2d(embed_dims // 8, embed_dims // 4, 3, padding=1),
            LayerNorm2d(embed_dims // 4), nn.GELU(),
            nn.Conv2d(embed_dims // 4, embed_dims // 8, 3, padding=1))
        self._freeze(frozen or ())

    def forward(self,
                image_embeddings: torch.Tensor,
                image_pe: torch.Tensor,
                sparse: torch.Tensor,
                dense: torch.Tensor,
                hq_feature: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, None]:
        """See :class:`BaseSAMMaskHead`. Returns ``(logits, None)``."""
        num = sparse.shape[0]
        tokens = torch.cat(
            [self.med_token.weight[None].expand(num, -1, -1), sparse], dim=1)
        src = image_embeddings + dense
        pos = image_pe.expand(num, -1, -1, -1)
        b, c, h, w = src.shape
        hs, src = self.transformer(src, pos, tokens)
        up = self.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        feat = self.embedding_maskfeature(up)
        if hq_feature is not None:
            feat = feat + hq_feature
        weights = self.hf_mlp(hs[:, 0])
        _, fc, fh, fw = feat.shape
        masks = (weights[:, None] @ feat.reshape(b, fc, fh * fw)).reshape(
            b, 1, fh, fw)
        return masks, None
