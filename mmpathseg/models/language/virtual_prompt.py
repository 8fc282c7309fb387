# Copyright (c) mmpathseg contributors. All rights reserved.
"""Learnable stand-in for the report features when text is absent."""
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptMultiConfig


@MODELS.register_module()
class VirtualPrompt(BaseModule):
    """A ``(L, D)`` parameter (MLMoE: 24 x 768) fed to the decoder in place
    of the text encoder's token features.

    Args:
        length (int): ``L``. Defaults to 24.
        embed_dims (int): ``D``. Defaults to 768.
        init_std (float): Normal init std. Defaults to 0.02 (as the authors'
            learnable text vectors in PseTNet; the paper does not say).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 length: int = 24,
                 embed_dims: int = 768,
                 init_std: float = 0.02,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.init_std = init_std
        self.prompt = nn.Parameter(torch.empty(length, embed_dims))
        nn.init.normal_(self.prompt, std=init_std)

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.prompt, std=self.init_std)

    def forward(self, batch_size: int) -> Tensor:
        """-> ``(batch_size, L, D)`` (a broadcast view of the prompt)."""
        return self.prompt.unsqueeze(0).expand(batch_size, -1, -1)
