# Copyright (c) mmpathseg contributors. All rights reserved.
"""What every SAM-style mask decoder shares: freezing and its losses."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import ConfigType, OptMultiConfig


class BaseSAMMaskHead(BaseModule):
    """Base of the SAM-style mask decoders.

    ``forward(image_embeddings (M, C, h, w), image_pe (1, C, h, w),
    sparse (M, T, C), dense (M, C, h, w), hq_feature (M, 32, 4h, 4w) or
    None)`` returns ``(logits (M, 1, 4h, 4w), iou_pred (M, 1) or None)``:
    one low-resolution mask logit map per prompt.

    ``loss_by_feat`` upsamples the logits bilinearly to the target size and
    sums the configured losses (``loss_decode``), each returning a
    ``loss_*`` key.

    Args:
        loss_decode (dict | list[dict]): Loss configs.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 loss_decode: Union[ConfigType, List[ConfigType]],
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        losses = loss_decode if isinstance(loss_decode,
                                           (list, tuple)) else [loss_decode]
        self.loss_decode = nn.ModuleList([MODELS.build(c) for c in losses])

    def _freeze(self, names: Sequence[str]) -> None:
        """Stop gradients to the named submodules (or parameters)."""
        known = dict(self.named_children())
        for name in names:
            target = known.get(name, getattr(self, name, None))
            if target is None:
                raise ValueError(
                    f'{type(self).__name__}: cannot freeze unknown part '
                    f'{name!r}; parts are {sorted(known)}.')
            params = [target] if isinstance(target, nn.Parameter) else \
                list(target.parameters())
            for param in params:
                param.requires_grad = False

    def loss_by_feat(self,
                     logits: torch.Tensor,
                     targets: torch.Tensor,
                     iou_pred: Optional[torch.Tensor] = None
                     ) -> Dict[str, torch.Tensor]:
        """Args:
            logits: ``(M, 1, 4h, 4w)`` low-resolution logits.
            targets: ``(M, H, W)`` {0, 1} masks in the (padded) input
                frame.
            iou_pred: ``(M, 1)`` IoU predictions, or None.

        Returns:
            dict: ``loss_*`` entries.
        """
        logits = F.interpolate(
            logits, size=targets.shape[-2:], mode='bilinear',
            align_corners=False)
        targets = targets[:, None].float()
        losses = {}
        for loss in self.loss_decode:
            value = loss(logits, targets, iou_pred=iou_pred)
            losses[loss.loss_name] = losses.get(loss.loss_name, 0) + value
        return losses
