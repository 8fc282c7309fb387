# Copyright (c) mmpathseg contributors. All rights reserved.
"""Packing and text edits for the text-guided segmentation pipelines."""
from typing import Optional

from mmcv.transforms import BaseTransform
from mmseg.datasets.transforms import PackSegInputs

from mmpathseg.registry import TRANSFORMS

TEXT_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                  'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                  'reduce_zero_label', 'sample_name', 'text', 'has_text')


@TRANSFORMS.register_module()
class PackTextSegInputs(PackSegInputs):
    """:class:`mmseg.datasets.transforms.PackSegInputs` that also packs the
    report: ``text`` (str or None) and ``has_text`` (bool) go to the data
    sample's metainfo. Text stays a string here; the model's text encoder
    owns the tokenizer (so test-time text modes need no pipeline change).

    A sample missing ``text`` is packed as ``text=None, has_text=False``.
    """

    def __init__(self, meta_keys=TEXT_META_KEYS) -> None:
        super().__init__(meta_keys=meta_keys)

    def transform(self, results: dict) -> dict:
        results.setdefault('text', None)
        results['has_text'] = bool(results.get('text'))
        if not results['has_text']:
            results['text'] = None
        return super().transform(results)


@TRANSFORMS.register_module()
class RandomDropText(BaseTransform):
    """Remove the report with probability ``prob`` (marks the sample
    ``has_text=False``), e.g. to train with missing reports.

    Args:
        prob (float): Probability to drop the text. Defaults to 0.5.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'RandomDropText: prob must be in [0, 1], got '
                             f'{prob}.')
        self.prob = prob

    def transform(self, results: dict) -> Optional[dict]:
        import numpy as np
        if np.random.rand() < self.prob:
            results['text'] = None
            results['has_text'] = False
        return results
