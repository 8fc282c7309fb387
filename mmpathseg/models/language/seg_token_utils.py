# Copyright (c) mmpathseg contributors. All rights reserved.
"""[SEG]/[REJ] token names, id look-up and hidden-state gathering.

A model that answers ``"Sure, tumor:[SEG], necrosis:[REJ]."`` decodes one
mask per [SEG] from the hidden state that *predicts* the [SEG]: the state at
position ``p - 1`` when input token ``p`` is [SEG] (LISA/GSVA). With
transformers' LLaVA the image placeholder is already expanded to one token per
image feature, so hidden states are 1:1 with ``input_ids`` and the only shift
is this causal one.
"""
from typing import Dict, List, Sequence, Tuple

import torch

__all__ = [
    'seg_token_names', 'lookup_token_ids', 'slot_positions',
    'gather_slot_states', 'predicted_rejections'
]

REJ_TOKEN = '[REJ]'


def seg_token_names(num_seg_tokens: int, distinct: bool) -> List[str]:
    """``['[SEG]']`` (one token reused for every target, LISA/GSVA) or
    ``['[SEG0]', ..., '[SEG{M-1}]']`` (one token per answer slot)."""
    if num_seg_tokens < 1:
        raise ValueError(f'num_seg_tokens must be >= 1, got {num_seg_tokens}.')
    if not distinct:
        return ['[SEG]']
    return [f'[SEG{i}]' for i in range(num_seg_tokens)]


def lookup_token_ids(tokenizer, names: Sequence[str]) -> List[int]:
    """Ids of added tokens, checked to be single, distinct, known tokens.

    ``tokenizer("[SEG]").input_ids[0]`` can return a word-boundary piece
    instead of the token (LISA#55); ``convert_tokens_to_ids`` plus an encode
    round trip cannot.
    """
    ids = []
    unk = getattr(tokenizer, 'unk_token_id', None)
    for name in names:
        token_id = tokenizer.convert_tokens_to_ids(name)
        encoded = tokenizer.encode(name, add_special_tokens=False)
        if token_id is None or token_id == unk or encoded != [token_id]:
            raise ValueError(
                f'token {name!r} is not a single token of the tokenizer '
                f'(id {token_id}, encodes to {encoded}); build the tokenizer '
                'with mmpathseg.models.language.build_referring_tokenizer.')
        ids.append(token_id)
    if len(set(ids)) != len(ids):
        raise ValueError(f'tokens {list(names)} share ids {ids}.')
    return ids


def slot_positions(input_ids: torch.Tensor,
                   slot_ids: Sequence[int]) -> List[torch.Tensor]:
    """Positions of answer-slot tokens, per sequence, in order.

    Args:
        input_ids (Tensor): ``(B, L)`` token ids.
        slot_ids (Sequence[int]): ids of [SEG]* and [REJ].

    Returns:
        list[Tensor]: ``B`` 1-D long tensors of positions ``p`` (>= 1).
    """
    ids = torch.as_tensor(list(slot_ids), device=input_ids.device)
    is_slot = torch.isin(input_ids, ids)
    is_slot[:, 0] = False  # no state predicts the first token
    return [row.nonzero(as_tuple=True)[0] for row in is_slot]


def gather_slot_states(hidden: torch.Tensor, input_ids: torch.Tensor,
                       seg_ids: Sequence[int]
                       ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    """Hidden states that predict each [SEG] token.

    Args:
        hidden (Tensor): ``(B, L, D)`` last-layer hidden states.
        input_ids (Tensor): ``(B, L)`` the sequence that produced them.
        seg_ids (Sequence[int]): the [SEG] token id(s).

    Returns:
        tuple: ``states`` (list of ``(n_b, D)``: ``hidden[b, p - 1]`` for
        every [SEG] at position ``p`` of sequence ``b``, in order) and
        ``positions`` (list of ``(n_b,)`` the [SEG] positions ``p``).
    """
    positions = slot_positions(input_ids, seg_ids)
    states = [hidden[b, pos - 1] for b, pos in enumerate(positions)]
    return states, positions


def predicted_rejections(logits: torch.Tensor, input_ids: torch.Tensor,
                         seg_ids: Sequence[int],
                         rej_id: int) -> List[torch.Tensor]:
    """Teacher-forced [SEG]/[REJ] decisions (GSVA evaluation).

    For each answer slot at position ``p`` (a ground-truth [SEG] or [REJ]),
    the model "says [REJ]" iff ``argmax(logits[p - 1]) == rej_id`` for a
    ground-truth [REJ], and iff that argmax is not a [SEG] token for a
    ground-truth [SEG] (any other token counts as the opposite class, as in
    GSVA).

    Returns:
        list[Tensor]: ``B`` bool tensors, one entry per slot in order,
        True = rejected.
    """
    slots = slot_positions(input_ids, list(seg_ids) + [rej_id])
    seg = torch.as_tensor(list(seg_ids), device=input_ids.device)
    out = []
    for b, pos in enumerate(slots):
        pred = logits[b, pos - 1].argmax(-1)
        gt_rej = input_ids[b, pos] == rej_id
        said_seg = torch.isin(pred, seg)
        said_rej = pred == rej_id
        out.append(torch.where(gt_rej, said_rej, ~said_seg))
    return out
