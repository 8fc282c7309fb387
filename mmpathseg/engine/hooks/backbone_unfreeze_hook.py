# Copyright (c) mmpathseg contributors. All rights reserved.
"""Unfreeze a frozen backbone from a given epoch on (CellViT's
``unfreeze_epoch``)."""
from typing import Optional

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch.nn.parallel import DistributedDataParallel

from mmpathseg.registry import HOOKS


@HOOKS.register_module()
class BackboneUnfreezeHook(Hook):
    """Train a module that starts frozen from epoch ``unfreeze_epoch`` on.

    CellViT trains its decoder on a frozen encoder for the first 25 epochs,
    then fine-tunes everything (``unfreeze_epoch: 25``); CellVTA sets the
    epoch beyond the schedule, i.e. never unfreezes, and needs no hook.

    At the start of every epoch ``>= unfreeze_epoch`` (0-based, like the
    reference's epoch counter) the module's ``unfreeze()`` is called when it
    has one, otherwise all its parameters get ``requires_grad=True`` and a
    ``frozen_eval`` flag (eval mode of frozen parts) is cleared. The state
    follows from the epoch, so resumed runs get it right. The optimizer
    must already hold the frozen parameters (mmengine's default constructor
    adds every parameter, frozen or not, as the reference's AdamW over
    ``model.parameters()`` does).

    Under ``DistributedDataParallel`` parameters that were frozen when the
    model was wrapped are not synchronised, so the hook refuses to unfreeze
    there; run such schedules in one process.

    Args:
        unfreeze_epoch (int): First epoch with a trainable module.
            Defaults to 25 (CellViT).
        module (str): Attribute path of the module in the model. Defaults
            to ``'backbone'``.
    """

    priority = 'HIGH'

    def __init__(self, unfreeze_epoch: int = 25,
                 module: str = 'backbone') -> None:
        if unfreeze_epoch < 0:
            raise ValueError('BackboneUnfreezeHook: unfreeze_epoch must be '
                             f'>= 0, got {unfreeze_epoch}.')
        self.unfreeze_epoch = unfreeze_epoch
        self.module = module
        self._done = False

    def _target(self, model: nn.Module) -> Optional[nn.Module]:
        if is_model_wrapper(model):
            model = model.module
        target = model
        for name in self.module.split('.'):
            if not hasattr(target, name):
                raise AttributeError(
                    f'BackboneUnfreezeHook: the model has no '
                    f'`{self.module}` (missing `{name}`); set `module` to '
                    'the attribute path of the module to unfreeze.')
            target = getattr(target, name)
        return target

    def before_train_epoch(self, runner) -> None:
        if self._done or runner.epoch < self.unfreeze_epoch:
            return
        if isinstance(runner.model, DistributedDataParallel):
            raise RuntimeError(
                'BackboneUnfreezeHook: cannot unfreeze under '
                'DistributedDataParallel (parameters frozen at wrapping are '
                'never synchronised). Train this schedule in one process, '
                'or split it into a frozen run and a resumed unfrozen run.')
        target = self._target(runner.model)
        if callable(getattr(target, 'unfreeze', None)):
            target.unfreeze()
        else:
            for param in target.parameters():
                param.requires_grad = True
            if hasattr(target, 'frozen_eval'):
                target.frozen_eval = False
        self._done = True
        trainable = sum(p.numel() for p in runner.model.parameters()
                        if p.requires_grad)
        print_log(
            f'BackboneUnfreezeHook: `{self.module}` is trainable from epoch '
            f'{runner.epoch}; {trainable:,} trainable parameters.',
            logger='current')
