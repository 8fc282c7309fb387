# Copyright (c) mmpathseg contributors. All rights reserved.
"""BackboneUnfreezeHook: a frozen backbone becomes trainable from the given
epoch on, also after a resume."""
from types import SimpleNamespace

import pytest
import torch.nn as nn

from mmpathseg.engine.hooks import BackboneUnfreezeHook


class _Frozen(nn.Module):

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 2)
        self.layer.requires_grad_(False)
        self.frozen_eval = True


class _WithUnfreeze(_Frozen):

    def unfreeze(self):
        self.called = True
        self.layer.requires_grad_(True)


def _runner(model, epoch):
    return SimpleNamespace(model=model, epoch=epoch)


def test_unfreezes_from_epoch():
    model = nn.Module()
    model.backbone = _Frozen()
    model.head = nn.Linear(2, 2)
    hook = BackboneUnfreezeHook(unfreeze_epoch=2)
    hook.before_train_epoch(_runner(model, 1))
    assert not model.backbone.layer.weight.requires_grad
    hook.before_train_epoch(_runner(model, 2))
    assert model.backbone.layer.weight.requires_grad
    assert model.backbone.frozen_eval is False
    # A resumed run past the epoch gets the same state at once.
    resumed = nn.Module()
    resumed.backbone = _WithUnfreeze()
    BackboneUnfreezeHook(unfreeze_epoch=2).before_train_epoch(
        _runner(resumed, 7))
    assert resumed.backbone.called
    assert resumed.backbone.layer.weight.requires_grad


def test_errors():
    with pytest.raises(ValueError, match='>= 0'):
        BackboneUnfreezeHook(unfreeze_epoch=-1)
    model = nn.Module()
    with pytest.raises(AttributeError, match='`encoder`'):
        BackboneUnfreezeHook(
            unfreeze_epoch=0, module='encoder').before_train_epoch(
                _runner(model, 0))
