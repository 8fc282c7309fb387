# Copyright (c) mmpathseg contributors. All rights reserved.
from .focal_tversky_loss import FocalTverskyLoss, MCFocalTverskyLoss
from .hover_cross_entropy_loss import HoVerCrossEntropyLoss
from .hover_dice_loss import HoVerDiceLoss
from .hv_mse_loss import HVMSELoss
from .msge_loss import MSGELoss
from .mask_bce_loss import MaskBCELoss
from .mask_dice_loss import MaskDiceLoss
from .mask_focal_loss import MaskFocalLoss
from .mask_iou_loss import MaskIoUMSELoss

__all__ = [
    'FocalTverskyLoss', 'MCFocalTverskyLoss', 'HoVerCrossEntropyLoss',
    'HoVerDiceLoss', 'HVMSELoss', 'MSGELoss', 'MaskDiceLoss', 'MaskFocalLoss', 'MaskBCELoss',
    'MaskIoUMSELoss'
]
from .diversity_loss import GateDiversityLoss, gate_diversity  # noqa: E402
from .feature_distill_loss import FeatureDistillLoss  # noqa: E402
from .soft_dice_loss import SoftDiceLoss  # noqa: E402

__all__ += [
    'GateDiversityLoss', 'gate_diversity', 'FeatureDistillLoss',
    'SoftDiceLoss'
]
