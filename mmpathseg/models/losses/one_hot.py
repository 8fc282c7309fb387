# Copyright (c) mmpathseg contributors. All rights reserved.
"""Targets of the HoVer-style losses as one-hot maps."""
import torch.nn.functional as F
from torch import Tensor


def as_one_hot(target: Tensor, pred: Tensor, name: str) -> Tensor:
    """A float one-hot ``(B, C, H, W)`` map matching ``pred``.

    Args:
        target (Tensor): ``(B, H, W)`` class indices in ``[0, C)`` or an
            already one-hot ``(B, C, H, W)`` map.
        pred (Tensor): ``(B, C, H, W)`` predictions, giving ``C``.
        name (str): Loss name for error messages.

    Returns:
        Tensor: ``(B, C, H, W)`` one-hot target, dtype of ``pred``.
    """
    num_classes = pred.shape[1]
    if target.shape == pred.shape:
        return target.to(pred.dtype)
    if target.dim() != pred.dim() - 1 or \
            target.shape[0] != pred.shape[0] or \
            target.shape[1:] != pred.shape[2:]:
        raise ValueError(
            f'{name}: target of shape {tuple(target.shape)} matches neither '
            f'the prediction {tuple(pred.shape)} (one-hot) nor its '
            f'(B, H, W) index layout {(pred.shape[0], *pred.shape[2:])}.')
    target = target.long()
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(
            f'{name}: target labels must lie in [0, {num_classes}) for a '
            f'{num_classes}-channel prediction, got [{int(target.min())}, '
            f'{int(target.max())}]. Padding (255) and ignore labels are not '
            'supported by the HoVer losses: pad targets as background.')
    return F.one_hot(target, num_classes).movedim(-1, 1).to(pred.dtype)


def check_same_shape(pred: Tensor, target: Tensor, name: str) -> None:
    if pred.shape != target.shape:
        raise ValueError(f'{name}: prediction {tuple(pred.shape)} and target '
                         f'{tuple(target.shape)} must have the same shape.')


__all__ = ['as_one_hot', 'check_same_shape']
