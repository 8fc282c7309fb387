# Copyright (c) mmpathseg contributors. All rights reserved.
"""SAM's mask decoder, batched over masks of several images."""
from typing import Optional, Sequence, Tuple, Union

import torch

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import ConfigType, OptMultiConfig
from .sam_head_base import BaseSAMMaskHead


def build_two_way_transformer(dims: int, depth: int, num_heads: int,
                              mlp_dims: int):
    from segment_anything.modeling import TwoWayTransformer
    return TwoWayTransformer(
        depth=depth, embedding_dim=dims, num_heads=num_heads,
        mlp_dim=mlp_dims)


@MODELS.register_module()
class SAMMaskDecoder(BaseSAMMaskHead):
    """SAM's mask decoder (SAM, FT-SAM, MedSAM, SAM-Med2D).

    The modules of ``segment_anything.modeling.MaskDecoder`` are adopted
    under their official names (``transformer``, ``iou_token``,
    ``mask_tokens``, ``output_upscaling``, ``output_hypernetworks_mlps``,
    ``iou_prediction_head``), so official ``mask_decoder.*`` weights load
    unchanged. Unlike SAM's decoder, which repeats one image's embedding for
    its prompts, it takes embeddings already gathered per mask
    (``(M, C, h, w)``), so masks of several images run in one call
    (SAM-Med2D's modification).

    ``multimask_output=True`` predicts SAM's three masks and keeps the one
    with the highest predicted IoU (SAM-Med2D's training and testing);
    False uses the single-mask token (SAM's predictor default for boxes;
    MedSAM).

    Args:
        embed_dims (int): Transformer width (SAM: 256).
        depth (int): Two-way transformer depth. Defaults to 2.
        num_heads (int): Defaults to 8.
        mlp_dims (int): Defaults to 2048.
        num_multimask_outputs (int): Defaults to 3.
        iou_head_depth (int): Defaults to 3.
        iou_head_hidden_dims (int): Defaults to 256.
        multimask_output (bool): See above. Defaults to False.
        frozen (Sequence[str] | bool): Parts to freeze; True freezes all
            (SAM zero-shot). Defaults to ().
        loss_decode (dict | list): Loss configs. Defaults to SAM-Med2D's
            20 x focal + dice + IoU MSE.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int = 256,
                 depth: int = 2,
                 num_heads: int = 8,
                 mlp_dims: int = 2048,
                 num_multimask_outputs: int = 3,
                 iou_head_depth: int = 3,
                 iou_head_hidden_dims: int = 256,
                 multimask_output: bool = False,
                 frozen: Union[bool, Sequence[str]] = (),
                 loss_decode: ConfigType = [
                     dict(type='MaskFocalLoss', loss_weight=20.0),
                     dict(type='MaskDiceLoss', loss_weight=1.0),
                     dict(type='MaskIoUMSELoss', loss_weight=1.0)
                 ],
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(loss_decode=loss_decode, init_cfg=init_cfg)
        from segment_anything.modeling import MaskDecoder
        sam = MaskDecoder(
            transformer_dim=embed_dims,
            transformer=build_two_way_transformer(embed_dims, depth,
                                                  num_heads, mlp_dims),
            num_multimask_outputs=num_multimask_outputs,
            iou_head_depth=iou_head_depth,
            iou_head_hidden_dim=iou_head_hidden_dims)
        self.num_mask_tokens = sam.num_mask_tokens
        self.transformer = sam.transformer
        self.iou_token = sam.iou_token
        self.mask_tokens = sam.mask_tokens
        self.output_upscaling = sam.output_upscaling
        self.output_hypernetworks_mlps = sam.output_hypernetworks_mlps
        self.iou_prediction_head = sam.iou_prediction_head
        self.multimask_output = multimask_output
        if frozen is True:
            frozen = ('transformer', 'iou_token', 'mask_tokens',
                      'output_upscaling', 'output_hypernetworks_mlps',
                      'iou_prediction_head')
        self._freeze(frozen or ())

    def forward(self,
                image_embeddings: torch.Tensor,
                image_pe: torch.Tensor,
                sparse: torch.Tensor,
                dense: torch.Tensor,
                hq_feature: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """See :class:`BaseSAMMaskHead`; ``hq_feature`` is ignored."""
        num = sparse.shape[0]
        output_tokens = torch.cat(
            [self.iou_token.weight, self.mask_tokens.weight], dim=0)
        tokens = torch.cat(
            [output_tokens[None].expand(num, -1, -1), sparse], dim=1)
        src = image_embeddings + dense
        pos = image_pe.expand(num, -1, -1, -1)
        b, c, h, w = src.shape
        hs, src = self.transformer(src, pos, tokens)
        iou_out = hs[:, 0]
        mask_out = hs[:, 1:1 + self.num_mask_tokens]
        up = self.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        hyper = torch.stack([
            mlp(mask_out[:, i])
            for i, mlp in enumerate(self.output_hypernetworks_mlps)
        ], dim=1)
        _, uc, uh, uw = up.shape
        masks = (hyper @ up.reshape(b, uc, uh * uw)).reshape(b, -1, uh, uw)
        iou_pred = self.iou_prediction_head(iou_out)
        if not self.multimask_output:
            return masks[:, :1], iou_pred[:, :1]
        masks, iou_pred = masks[:, 1:], iou_pred[:, 1:]
        best = iou_pred.argmax(dim=1)
        index = torch.arange(b, device=masks.device)
        return masks[index, best][:, None], iou_pred[index, best][:, None]
