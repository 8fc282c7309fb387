# Copyright (c) mmpathseg contributors. All rights reserved.
"""Turn the targets of a referring sample into binary masks."""
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS

__all__ = ['LoadReferringAnnotations', 'decode_rle']


def decode_rle(rle: dict, height: int, width: int) -> np.ndarray:
    """COCO RLE (counts as str or list) -> ``(H, W)`` bool array."""
    from pycocotools import mask as mask_utils
    rle = dict(rle)
    if isinstance(rle.get('counts'), list):
        rle = mask_utils.frPyObjects(rle, *rle['size'])
    elif isinstance(rle.get('counts'), str):
        rle['counts'] = rle['counts'].encode('ascii')
    mask = mask_utils.decode(rle).astype(bool)
    if mask.shape != (height, width):
        raise ValueError(f'RLE of size {mask.shape} does not match the '
                         f'image size {(height, width)}.')
    return mask


@TRANSFORMS.register_module()
class LoadReferringAnnotations(BaseTransform):
    """Build ``gt_masks`` ``(T, H, W)`` bool, ``gt_empty`` ``(T,)`` bool and
    ``ignore_mask`` ``(H, W)`` bool from ``targets``.

    A target's mask is its RLE when given, else ``isin(label_map,
    label_values)``; ignored pixels (``ignore_values`` of the annotation file)
    are removed from every mask. A target flagged ``empty`` must have no
    pixel and a non-empty one at least one, otherwise a ``ValueError`` names
    the image, the ref and the target.

    Required keys: ``targets``, ``seg_map_path`` (may be None),
    ``ignore_values``, ``ori_height``/``ori_width`` (or ``img_shape``).
    Added keys: ``gt_masks``, ``gt_empty``, ``ignore_mask``.
    """

    def transform(self, results: dict) -> dict:
        if 'img_shape' in results:
            height, width = results['img_shape'][:2]
        else:
            height, width = results['ori_height'], results['ori_width']
        label = None
        if results.get('seg_map_path'):
            label = mmcv.imread(results['seg_map_path'], flag='unchanged')
            if label is None:
                raise FileNotFoundError(
                    f'label map {results["seg_map_path"]!r} not readable.')
            if label.ndim == 3:
                label = label[..., 0]
            if label.shape != (height, width):
                raise ValueError(
                    f'label map {results["seg_map_path"]} is {label.shape} '
                    f'but the image is {(height, width)}.')
        ignore = np.zeros((height, width), bool)
        if label is not None and results.get('ignore_values'):
            ignore = np.isin(label, results['ignore_values'])
        masks = []
        for j, target in enumerate(results['targets']):
            where = (f'{results.get("img_path")} ref '
                     f'{results.get("ref_id")} target {j} '
                     f'({target["phrase"]!r})')
            if target.get('mask') is not None:
                mask = decode_rle(target['mask'], height, width)
            elif target['label_values']:
                if label is None:
                    raise ValueError(f'{where}: needs a label map (its mask '
                                     'is given by label values) but the '
                                     'image has no label_file.')
                mask = np.isin(label, target['label_values'])
            else:
                mask = np.zeros((height, width), bool)
            mask &= ~ignore
            if bool(target['empty']) != (not mask.any()):
                raise ValueError(
                    f'{where}: flagged empty={target["empty"]} but its mask '
                    f'has {int(mask.sum())} pixels; fix the annotation file.')
            masks.append(mask)
        results['gt_masks'] = np.stack(masks) if masks else np.zeros(
            (0, height, width), bool)
        results['gt_empty'] = np.array(
            [bool(t['empty']) for t in results['targets']], bool)
        results['ignore_mask'] = ignore
        return results
