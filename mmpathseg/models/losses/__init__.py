# Copyright (c) mmpathseg contributors. All rights reserved.
from .diversity_loss import GateDiversityLoss, gate_diversity
from .feature_distill_loss import FeatureDistillLoss
from .focal_tversky_loss import FocalTverskyLoss, MCFocalTverskyLoss
from .hover_cross_entropy_loss import HoVerCrossEntropyLoss
from .hover_dice_loss import HoVerDiceLoss
from .hv_mse_loss import HVMSELoss
from .mask_bce_loss import MaskBCELoss
from .mask_dice_loss import MaskDiceLoss
from .mask_focal_loss import MaskFocalLoss
from .mask_iou_loss import MaskIoUMSELoss
from .msge_loss import MSGELoss
from .soft_dice_loss import SoftDiceLoss

__all__ = [
    # nuclei (CellViT / CellVTA)
    'FocalTverskyLoss', 'MCFocalTverskyLoss', 'HoVerCrossEntropyLoss',
    'HoVerDiceLoss', 'HVMSELoss', 'MSGELoss',
    # promptable masks (SAM family)
    'MaskDiceLoss', 'MaskFocalLoss', 'MaskBCELoss', 'MaskIoUMSELoss',
    # text-guided (MLMoE)
    'GateDiversityLoss', 'gate_diversity', 'FeatureDistillLoss',
    'SoftDiceLoss'
]
