# Copyright (c) mmpathseg contributors. All rights reserved.
"""The small protocol a plain ViT offers so adapters can drive it.

An adapter (CellVTA's, ViT-Adapter-style) interleaves its own modules with
stretches of the ViT's blocks, so it needs the ViT in pieces rather than as
one ``forward``. :class:`UNIViT` and :class:`SAMViT` both offer these pieces,
which is what lets ``CellVTAAdapter(vit=dict(type='SAMViT', ...))`` work as
well as the UNI original:

* ``embed(x)`` -> ``(tokens, cls)``: patch embedding plus position
  embedding resampled to the input grid. ``tokens`` is ``(B, h, w, D)``
  (channels last, ``h = H / patch_size``); ``cls`` is the class token with
  its position embedding, ``(B, 1, D)``, or None for ViTs without one (SAM).
* ``forward_blocks(tokens, cls, start, end)`` -> ``(tokens, cls)``: runs
  blocks ``start .. end - 1`` (Python slice). With ``cls=None`` the blocks
  see the patch tokens only; otherwise the class token is prepended for the
  blocks and split off again. SAM ViTs refuse a class token.
* ``head_token(tokens, cls)`` -> ``(B, C)`` or None: the encoder's global
  output after its final step, i.e. the tissue-head input. UNI: the final
  LayerNorm of the class token (``C = D``); SAM: the spatial mean of the
  neck output (``C = out_channels``, 256), as CellViT-SAM does.
* ``freeze(trunk_only, eval_mode)``: stop gradients to the trunk (patch
  embedding, position embedding, class token, blocks) and, unless
  ``trunk_only``, to the head-token path (UNI final norm, SAM neck) too;
  ``unfreeze()`` undoes it.
* attributes ``embed_dims`` (D), ``num_layers``, ``patch_size`` and
  ``cls_channels`` (C above, or None).

:class:`FreezeMixin` holds the freezing and the eval-mode handling both ViTs
share.
"""
from typing import Iterable, List, Optional, Tuple

import torch
import torch.nn as nn

PROTOCOL_METHODS = ('embed', 'forward_blocks', 'head_token', 'freeze')
PROTOCOL_ATTRIBUTES = ('embed_dims', 'num_layers', 'patch_size',
                       'cls_channels')


def check_adaptable_vit(vit: nn.Module, owner: str) -> None:
    """Raise a TypeError if ``vit`` lacks part of the protocol.

    Args:
        vit (nn.Module): The built ViT.
        owner (str): Who asks, for the message (e.g. ``'CellVTAAdapter'``).
    """
    missing = [m for m in PROTOCOL_METHODS if not callable(getattr(vit, m,
                                                                   None))]
    missing += [a for a in PROTOCOL_ATTRIBUTES if not hasattr(vit, a)]
    if missing:
        raise TypeError(
            f'{owner}: the ViT {type(vit).__name__} lacks {missing} of the '
            'adapter protocol (see mmpathseg/models/backbones/'
            'vit_protocol.py); use `UNIViT` or `SAMViT`, or implement them.')


class FreezeMixin:
    """Freezing shared by the ViT backbones.

    Frozen parameters get ``requires_grad=False``. Whether frozen modules
    also run in eval mode (no dropout / stochastic depth) is a choice:
    CellVTA keeps its frozen UNI in train mode, so its stochastic depth
    (``drop_path_rate=0.4``) stays active while the ViT is frozen; that is
    ``eval_mode=False``, our default. ``eval_mode=True`` puts the frozen
    modules in eval mode after every ``train()`` call. ViTs have no
    BatchNorm, so only dropout and stochastic depth are affected.
    """

    _frozen_modules: List[nn.Module]
    _frozen_params: List[nn.Parameter]
    frozen_eval: bool

    def _init_freeze_state(self) -> None:
        self._frozen_modules = []
        self._frozen_params = []
        self.frozen_eval = False

    def _freeze_parts(self, modules: Iterable[nn.Module],
                      params: Iterable[Optional[nn.Parameter]],
                      eval_mode: bool) -> None:
        """Stop gradients to ``modules`` and the loose ``params``."""
        for module in modules:
            if module is None:
                continue
            for param in module.parameters():
                param.requires_grad = False
            self._frozen_modules.append(module)
        for param in params:
            if param is not None:
                param.requires_grad = False
                self._frozen_params.append(param)
        self.frozen_eval = eval_mode
        self.train(self.training)

    def unfreeze(self) -> None:
        """Undo every freeze (e.g. CellViT's ``unfreeze_epoch``)."""
        for module in self._frozen_modules:
            for param in module.parameters():
                param.requires_grad = True
        for param in self._frozen_params:
            param.requires_grad = True
        self._frozen_modules, self._frozen_params = [], []
        self.frozen_eval = False
        self.train(self.training)

    def train(self, mode: bool = True):
        super().train(mode)  # type: ignore[misc]
        if mode and self.frozen_eval:
            for module in self._frozen_modules:
                module.eval()
        return self


def default_out_indices(num_layers: int) -> Tuple[int, ...]:
    """Blocks at 1/4, 1/2, 3/4 and the end, 0-based.

    CellViT's ``extract_layers`` are 1-based: ViT-L ``[6, 12, 18, 24]`` is
    ``(5, 11, 17, 23)`` here.
    """
    if num_layers % 4:
        raise ValueError(
            f'cannot derive 4 out_indices from {num_layers} blocks; give '
            '`out_indices` explicitly (0-based block indexes).')
    step = num_layers // 4
    return tuple(step * (i + 1) - 1 for i in range(4))


def check_out_indices(out_indices, num_layers: int,
                      owner: str) -> Tuple[int, ...]:
    """Validate 0-based block indexes (negative ones count from the end)."""
    out = []
    for index in out_indices:
        index = int(index)
        if index < 0:
            index += num_layers
        if not 0 <= index < num_layers:
            raise ValueError(
                f'{owner}: out_indices {tuple(out_indices)} has {index}, '
                f'outside the {num_layers} blocks (0-based).')
        out.append(index)
    if sorted(out) != out or len(set(out)) != len(out):
        raise ValueError(f'{owner}: out_indices must be increasing, got '
                         f'{tuple(out_indices)}.')
    return tuple(out)


def nchw(tokens: torch.Tensor) -> torch.Tensor:
    """``(B, h, w, D)`` -> ``(B, D, h, w)`` (contiguous)."""
    return tokens.permute(0, 3, 1, 2).contiguous()
