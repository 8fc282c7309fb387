# Copyright (c) mmpathseg contributors. All rights reserved.
"""The data sample of referring segmentation: one conversation about one
image, with one ground truth per answer slot."""
from mmengine.structures import BaseDataElement

__all__ = ['ReferringDataSample']


class ReferringDataSample(BaseDataElement):
    """Fields (``T`` = number of targets = answer slots):

    * ``gt_masks``: ``(T, H, W)`` bool tensor at the original image size.
    * ``gt_empty``: ``(T,)`` bool, True where the target is absent ([REJ]).
    * ``ignore_mask``: ``(H, W)`` bool, pixels excluded from losses and
      metrics (BCSS code 0 etc.).
    * ``input_ids`` / ``labels``: ``(L,)`` long, the tokenised conversation
      (labels are -100 outside the answer); ``prompt_length``: int, number of
      tokens before the answer (generation starts there).
    * predictions: ``pred_masks`` ``(T, H, W)`` bool, ``pred_rejected``
      ``(T,)`` bool, ``pred_text`` str (generation mode).

    Metainfo: ``img_path``, ``ori_shape``, ``expression``, ``phrases``,
    ``magnification``, ``ref_id``.
    """
