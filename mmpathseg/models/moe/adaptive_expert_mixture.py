# Copyright (c) mmpathseg contributors. All rights reserved.
"""LTSE's Adaptive Expert Mixture: n SAM mask decoders mixed by a top-k
gate (paper Eq. 4-6)."""
from typing import Dict

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import ConfigType, OptMultiConfig

__all__ = ['AdaptiveExpertMixture']


@MODELS.register_module()
class AdaptiveExpertMixture(BaseModule):
    """``masks = sum_i w_i * m_i`` over ``num_experts`` mask decoders.

    All experts run (n SAM decoders are cheap next to the image encoder);
    experts outside a target's top-k get weight exactly 0, so they receive no
    gradient from that target. Interface as :class:`SAMExpertDecoder`, so
    either can be a segmentor's ``mask_decoder``.

    Args:
        expert (dict): Config of one expert (``SAMExpertDecoder``).
        num_experts (int): n. Defaults to 4.
        gate (dict): Gate config (``AEMGate``); its ``embed_dims`` and
            ``num_experts`` are filled in.
        mix (str): ``'logits'`` mixes the experts' mask logits (default);
            ``'probs'`` mixes their sigmoid probabilities and returns the
            logit of the mixture.
    """

    def __init__(self,
                 expert: ConfigType,
                 num_experts: int = 4,
                 gate: ConfigType = dict(type='AEMGate', top_k=2),
                 mix: str = 'logits',
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if mix not in ('logits', 'probs'):
            raise ValueError(f'AdaptiveExpertMixture: mix must be "logits" '
                             f'or "probs", got {mix!r}.')
        if num_experts < 1:
            raise ValueError(f'AdaptiveExpertMixture: num_experts must be '
                             f'>= 1, got {num_experts}.')
        self.experts = nn.ModuleList(
            MODELS.build(expert) for _ in range(num_experts))
        gate = dict(gate)
        gate.setdefault('embed_dims', self.experts[0].transformer_dim)
        gate['num_experts'] = num_experts
        self.gate = MODELS.build(gate)
        self.mix = mix

    def forward(self, image_embeddings: Tensor, image_pe: Tensor,
                sparse: Tensor, dense: Tensor) -> Dict[str, Tensor]:
        """Same arguments as :meth:`SAMExpertDecoder.forward`.

        Returns:
            dict: ``masks`` ``(N, 1, 4h, 4w)`` mixed logits, ``iou``
            ``(N, 1)`` mixed, ``gate_weights`` ``(N, n)``, ``gate_probs``
            ``(N, n)``, ``expert_masks`` ``(N, n, 1, 4h, 4w)``.
        """
        weights, probs = self.gate(sparse.mean(1), image_embeddings, image_pe)
        outs = [e(image_embeddings, image_pe, sparse, dense)
                for e in self.experts]
        masks = torch.stack([o['masks'] for o in outs], 1)
        iou = torch.stack([o['iou'] for o in outs], 1)
        w = weights[:, :, None, None, None]
        if self.mix == 'logits':
            mixed = (w * masks).sum(1)
        else:
            mixed = torch.logit((w * masks.sigmoid()).sum(1), eps=1e-6)
        return dict(
            masks=mixed,
            iou=(weights[..., None] * iou).sum(1),
            gate_weights=weights,
            gate_probs=probs,
            expert_masks=masks)
