# Copyright (c) mmpathseg contributors. All rights reserved.
"""Clicks on the errors of a prediction, and the settings of the
interactive simulation loop (SAM, SAM-Med2D, IMIS, SyncSAM)."""
from typing import Optional, Tuple

import torch
from mmengine.config import ConfigDict

# train_cfg of PromptableSegmentor. SAM-Med2D's loop: box or 1 point with
# p = 0.5, then 8 rounds of 1/3/5/9 fresh error clicks (not accumulated)
# with the previous mask (as probabilities) fed back, mask-only at one
# random round and at the last.
TRAIN_DEFAULTS = dict(
    first_prompt=dict(box=0.5, point=0.5),
    num_rounds=8,
    clicks_per_round=(1, 3, 5, 9),
    accumulate_points=False,
    mask_prompt='prob',
    mask_only_rounds=True,
    detach_image_features=True,
    round_reduction='mean',
)
# test_cfg: box prompts, and sequential clicks (the first from the data
# pipeline, then one error click per round, accumulated, previous logits
# fed back), recorded after 1 and 5 clicks.
TEST_DEFAULTS = dict(
    box=True,
    points=(1, 5),
    mask_prompt='logits',
    mask_threshold=0.,
    seed=0,
)
MASK_PROMPTS = ('logits', 'prob')
REDUCTIONS = ('mean', 'sum')


def merge_cfg(cfg: Optional[dict], defaults: dict, name: str) -> ConfigDict:
    """Defaults updated by ``cfg``; unknown keys raise."""
    cfg = dict(cfg or {})
    unknown = sorted(set(cfg) - set(defaults))
    if unknown:
        raise ValueError(f'PromptableSegmentor: unknown {name} keys '
                         f'{unknown}; allowed are {sorted(defaults)}.')
    merged = ConfigDict({**defaults, **cfg})
    if merged.mask_prompt not in MASK_PROMPTS:
        raise ValueError(f'PromptableSegmentor: {name}.mask_prompt must be '
                         f'one of {MASK_PROMPTS}, got '
                         f'{merged.mask_prompt!r}.')
    if name == 'train_cfg':
        first = dict(merged.first_prompt)
        if not first or set(first) - {'box', 'point'} or \
                sum(first.values()) <= 0:
            raise ValueError(
                'PromptableSegmentor: train_cfg.first_prompt must map "box" '
                f'and/or "point" to probabilities, got {first}.')
        if merged.round_reduction not in REDUCTIONS:
            raise ValueError('PromptableSegmentor: train_cfg.'
                             f'round_reduction must be one of {REDUCTIONS}.')
    return merged


def sample_error_clicks(pred: torch.Tensor,
                        gt: torch.Tensor,
                        num_clicks: int,
                        valid: Optional[torch.Tensor] = None,
                        generator: Optional[torch.Generator] = None
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Clicks drawn uniformly from the error region of every mask.

    A click on a false negative (``gt & ~pred``) is positive (label 1), on a
    false positive (``pred & ~gt``) negative (label 0). A mask without error
    gets padding clicks (label -1, ignored by SAM's prompt encoder), as
    SAM-Med2D does.

    Args:
        pred: ``(M, H, W)`` bool prediction.
        gt: ``(M, H, W)`` bool ground truth.
        num_clicks (int): Clicks per mask (drawn with replacement).
        valid: ``(M, H, W)`` bool, where clicks may land (the image, not the
            padding). Defaults to everywhere.
        generator (torch.Generator, optional): For fixed test clicks.

    Returns:
        tuple: ``coords`` ``(M, num_clicks, 2)`` float ``(x, y)`` and
        ``labels`` ``(M, num_clicks)`` int64.
    """
    error = pred ^ gt
    if valid is not None:
        error = error & valid
    num, height, width = error.shape
    flat = error.reshape(num, -1).float()
    has_error = flat.sum(1) > 0
    flat[~has_error, 0] = 1.  # any index; relabelled as padding below
    index = torch.multinomial(
        flat.cpu(), num_clicks, replacement=True,
        generator=generator).to(pred.device)
    ys, xs = index // width, index % width
    labels = gt.reshape(num, -1).gather(1, index).long()
    labels[~has_error] = -1
    coords = torch.stack([xs, ys], dim=-1).float()
    return coords, labels
