# Copyright (c) mmpathseg contributors. All rights reserved.
"""Pack a referring sample into ``inputs`` + :class:`ReferringDataSample`."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS
from mmpathseg.structures import ReferringDataSample

__all__ = ['PackReferringInputs']


@TRANSFORMS.register_module()
class PackReferringInputs(BaseTransform):
    """``inputs``: the ``(3, H, W)`` uint8 image as loaded (the data
    preprocessor makes the SAM and CLIP views). ``data_samples``: a
    :class:`ReferringDataSample` with ``gt_masks``, ``gt_empty``,
    ``ignore_mask``, ``input_ids``, ``labels``, ``prompt_length``.

    Args:
        meta_keys (tuple): Keys copied into the metainfo when present.
    """

    def __init__(self,
                 meta_keys=('img_path', 'ori_shape', 'img_shape',
                            'expression', 'question', 'answer',
                            'magnification', 'ref_id', 'image_id',
                            'slide_id', 'target_index')):
        self.meta_keys = meta_keys

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None].repeat(3, axis=2)
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0,
                                                                     1)))
        sample = ReferringDataSample()
        sample.gt_masks = torch.from_numpy(results['gt_masks'])
        sample.gt_empty = torch.from_numpy(results['gt_empty'])
        sample.ignore_mask = torch.from_numpy(results['ignore_mask'])
        sample.input_ids = torch.from_numpy(results['input_ids'])
        sample.labels = torch.from_numpy(results['labels'])
        sample.prompt_length = int(results['prompt_length'])
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta['phrases'] = [t['phrase'] for t in results['targets']]
        sample.set_metainfo(meta)
        return dict(inputs=inputs, data_samples=sample)
