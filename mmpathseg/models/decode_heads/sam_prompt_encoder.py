# Copyright (c) mmpathseg contributors. All rights reserved.
"""SAM's prompt encoder for batches of masks from several images."""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig


@MODELS.register_module()
class SAMPromptEncoder(BaseModule):
    """Embeds points, boxes and mask prompts as SAM does.

    The modules are those of ``segment_anything.modeling.PromptEncoder``,
    adopted under their official names (``pe_layer``, ``point_embeddings``,
    ``not_a_point_embed``, ``mask_downscaling``, ``no_mask_embed``), so an
    official ``prompt_encoder.*`` state dict loads unchanged. The forward is
    SAM's, written with out-of-place ops so that it trains, and it takes
    every prompt type independently batched over ``M`` masks.

    Args:
        embed_dims (int): Prompt width (SAM: 256). Must be even.
        image_embedding_size (int): Token grid side ``h`` (input / 16).
        input_image_size (int): Model input side (SAM 1024, SyncSAM 256);
            prompt coordinates are normalised by it.
        mask_in_channels (int): Hidden width of the mask downscaling (SAM:
            16). Its first stage has ``mask_in_channels // 4`` channels
            followed by a ``LayerNorm2d`` over them, so it must be at least
            8: with 4 that norm sees one channel, outputs its bias
            everywhere, and the mask prompt (the previous prediction fed
            back) is erased whatever its values.
        frozen (bool): Stop gradients (MedSAM freezes it). Defaults to
            False.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int = 256,
                 image_embedding_size: int = 64,
                 input_image_size: int = 1024,
                 mask_in_channels: int = 16,
                 frozen: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mask_in_channels < 8 or mask_in_channels % 4:
            raise ValueError(
                'SAMPromptEncoder: mask_in_channels must be a multiple of 4 '
                f'and at least 8, got {mask_in_channels}: the mask '
                'downscaling normalises mask_in_channels // 4 channels with '
                'a LayerNorm2d, which turns a single channel into a '
                'constant, so mask prompts would be ignored. Set '
                'model.prompt_encoder.mask_in_channels to 16 (SAM) or 8.')
        from segment_anything.modeling import PromptEncoder
        sam = PromptEncoder(
            embed_dim=embed_dims,
            image_embedding_size=(image_embedding_size, ) * 2,
            input_image_size=(input_image_size, ) * 2,
            mask_in_chans=mask_in_channels)
        self.embed_dims = embed_dims
        self.image_embedding_size = (image_embedding_size, ) * 2
        self.input_image_size = (input_image_size, ) * 2
        self.mask_input_size = sam.mask_input_size
        self.pe_layer = sam.pe_layer
        self.point_embeddings = sam.point_embeddings
        self.not_a_point_embed = sam.not_a_point_embed
        self.mask_downscaling = sam.mask_downscaling
        self.no_mask_embed = sam.no_mask_embed
        if frozen:
            for param in self.parameters():
                param.requires_grad = False

    def get_dense_pe(self) -> torch.Tensor:
        """Positional encoding of the token grid, ``(1, D, h, w)``."""
        return self.pe_layer(self.image_embedding_size).unsqueeze(0)

    def _embed_points(self, points: torch.Tensor, labels: torch.Tensor,
                      pad: bool) -> torch.Tensor:
        points = points + 0.5  # pixel centres
        if pad:
            points = torch.cat([points, points.new_zeros(
                (points.shape[0], 1, 2))], dim=1)
            labels = torch.cat([labels, -labels.new_ones(
                (labels.shape[0], 1))], dim=1)
        emb = self.pe_layer.forward_with_coords(points,
                                                self.input_image_size)
        lab = labels[..., None]
        emb = torch.where(lab == -1, self.not_a_point_embed.weight, emb)
        emb = emb + torch.where(lab == 0, self.point_embeddings[0].weight,
                                torch.zeros_like(emb))
        emb = emb + torch.where(lab == 1, self.point_embeddings[1].weight,
                                torch.zeros_like(emb))
        return emb

    def _embed_boxes(self, boxes: torch.Tensor) -> torch.Tensor:
        corners = (boxes + 0.5).reshape(-1, 2, 2)
        emb = self.pe_layer.forward_with_coords(corners,
                                                self.input_image_size)
        return emb + torch.stack([
            self.point_embeddings[2].weight[0],
            self.point_embeddings[3].weight[0]
        ])[None]

    def forward(self,
                points: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
                boxes: Optional[torch.Tensor] = None,
                masks: Optional[torch.Tensor] = None,
                num: Optional[int] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Args:
            points: ``(coords (M, P, 2) (x, y) input pixels, labels (M, P))``
                with labels 1 / 0 / -1 (padding).
            boxes: ``(M, 4)`` ``x0, y0, x1, y1`` input pixels.
            masks: ``(M, 1, 4h, 4w)`` mask prompt (SAM: previous logits).
            num: ``M`` when no prompt is given.

        Returns:
            ``sparse (M, T, D)`` and ``dense (M, D, h, w)``.
        """
        for given in (points[0] if points is not None else None, boxes,
                      masks):
            if given is not None:
                num = given.shape[0]
                break
        if num is None:
            raise ValueError('SAMPromptEncoder: no prompt and no `num`.')
        weight = self.no_mask_embed.weight
        sparse = weight.new_zeros((num, 0, self.embed_dims))
        if points is not None:
            sparse = torch.cat([
                sparse,
                self._embed_points(points[0], points[1], boxes is None)
            ], dim=1)
        if boxes is not None:
            sparse = torch.cat([sparse, self._embed_boxes(boxes)], dim=1)
        if masks is not None:
            dense = self.mask_downscaling(masks)
        else:
            dense = weight.reshape(1, -1, 1, 1).expand(
                num, -1, *self.image_embedding_size)
        return sparse, dense
