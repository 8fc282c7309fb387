# Copyright (c) mmpathseg contributors. All rights reserved.
"""The gate network of LTSE's Adaptive Expert Mixture (paper Fig. 2)."""
from typing import Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig

__all__ = ['AEMGate', 'top_k_renormalise']


def top_k_renormalise(probs: Tensor, k: int) -> Tensor:
    """Keep the ``k`` largest of each row of ``probs`` ``(N, n)`` and
    rescale them to sum to one; the others become exactly 0."""
    if not 1 <= k <= probs.shape[-1]:
        raise ValueError(f'top_k must be in [1, {probs.shape[-1]}], got {k}.')
    values, index = probs.topk(k, dim=-1)
    values = values / values.sum(-1, keepdim=True).clamp_min(1e-12)
    return torch.zeros_like(probs).scatter(-1, index, values)


@MODELS.register_module()
class AEMGate(BaseModule):
    """Self-attention over the prompt embeddings of one image, two
    cross-attention layers (prompts query the image embedding, keys carry
    SAM's dense positional encoding), each followed by add & norm, then an
    MLP, a linear map to ``num_experts`` logits, softmax, top-k and
    renormalisation.

    The prompts of all targets of an image attend to each other (the paper
    does not say; this lets the gate see the whole instruction).

    Args:
        embed_dims (int): Prompt width C (SAM: 256).
        num_experts (int): n. Defaults to 4.
        top_k (int): k experts kept per target. Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (int): MLP hidden = ``mlp_ratio * embed_dims``.
    """

    def __init__(self,
                 embed_dims: int = 256,
                 num_experts: int = 4,
                 top_k: int = 2,
                 num_heads: int = 8,
                 mlp_ratio: int = 4,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if not 1 <= top_k <= num_experts:
            raise ValueError(f'AEMGate: top_k must be in [1, num_experts='
                             f'{num_experts}], got {top_k}.')
        self.num_experts = num_experts
        self.top_k = top_k
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, batch_first=True)
        self.norm_self = nn.LayerNorm(embed_dims)
        self.cross_attn = nn.ModuleList(
            nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
            for _ in range(2))
        self.norm_cross = nn.ModuleList(
            nn.LayerNorm(embed_dims) for _ in range(2))
        self.mlp = nn.Sequential(
            nn.Linear(embed_dims, mlp_ratio * embed_dims), nn.GELU(),
            nn.Linear(mlp_ratio * embed_dims, embed_dims))
        self.fc = nn.Linear(embed_dims, num_experts)

    def forward(self, prompts: Tensor, image_embeddings: Tensor,
                image_pe: Tensor) -> Tuple[Tensor, Tensor]:
        """
        Args:
            prompts (Tensor): ``(N, C)`` one prompt embedding per target.
            image_embeddings (Tensor): ``(1, C, h, w)``.
            image_pe (Tensor): ``(1, C, h, w)``.

        Returns:
            tuple: ``weights`` ``(N, n)`` (k non-zero entries per row summing
            to 1) and ``probs`` ``(N, n)`` the full softmax.
        """
        x = prompts[None]  # (1, N, C): one sequence per image
        x = self.norm_self(x + self.self_attn(x, x, x)[0])
        value = image_embeddings.flatten(2).transpose(1, 2)  # (1, hw, C)
        key = value + image_pe.flatten(2).transpose(1, 2)
        for attn, norm in zip(self.cross_attn, self.norm_cross):
            x = norm(x + attn(x, key, value)[0])
        probs = self.fc(self.mlp(x))[0].softmax(-1)
        return top_k_renormalise(probs, self.top_k), probs
