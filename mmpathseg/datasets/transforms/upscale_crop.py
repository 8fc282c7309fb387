# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellVTA's CoNIC "40x" samples: a 20x tile upscaled and cut into
overlapping crops.

CellVTA upscales each 256 px CoNIC tile (20x, ~0.5 um/px) bilinearly to
480 px (= 2 * (256 - 32) + 32, i.e. ~40x) and cuts a 2 x 2 grid of 256 px
crops with stride 224 (32 px overlap), row-major. The dataset
(``CoNICDataset(upscale=dict(mode='crops'))``) makes one sample per crop and
puts its place in the data info; :class:`UpscaleCrop` makes the pixels.
"""
from typing import List, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS

IntPair = Union[int, Sequence[int]]


def to_pair(value: IntPair, name: str) -> Tuple[int, int]:
    """``(h, w)`` from an int or a pair of ints, both > 0."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else \
        tuple(value)
    if len(pair) != 2 or any(int(v) != v or v <= 0 for v in pair):
        raise ValueError(f'{name} must be a positive int or (h, w), got '
                         f'{value!r}.')
    return int(pair[0]), int(pair[1])


def crop_offsets(image_shape: IntPair, crop_size: IntPair,
                 stride: IntPair) -> List[Tuple[int, int]]:
    """Top-left corners ``(y, x)`` of crops covering an image, row-major.

    Crops step by ``stride``; the last one of a row/column is moved back to
    end at the border (the rule of
    :func:`mmpathseg.postprocessing.tiling.tile_origins`, which merges the
    predictions back). ``crop_offsets(480, 256, 224)`` is
    ``[(0, 0), (0, 224), (224, 0), (224, 224)]``.

    Args:
        image_shape (int | tuple[int, int]): ``(H, W)``, at least the crop.
        crop_size (int | tuple[int, int]): ``(h, w)``.
        stride (int | tuple[int, int]): ``(sy, sx)``, at most the crop size.

    Returns:
        list[tuple[int, int]]: Crop origins.
    """
    height, width = to_pair(image_shape, 'image_shape')
    crop_h, crop_w = to_pair(crop_size, 'crop_size')
    stride_y, stride_x = to_pair(stride, 'stride')
    if crop_h > height or crop_w > width:
        raise ValueError(f'crop_size {(crop_h, crop_w)} is larger than the '
                         f'image {(height, width)}.')
    if stride_y > crop_h or stride_x > crop_w:
        raise ValueError(f'stride {(stride_y, stride_x)} must be at most the '
                         f'crop size {(crop_h, crop_w)} so crops cover the '
                         'image.')

    def starts(size, crop, step):
        count = (size - crop + step - 1) // step + 1
        return sorted({min(i * step, size - crop) for i in range(count)})

    return [(y, x) for y in starts(height, crop_h, stride_y)
            for x in starts(width, crop_w, stride_x)]


def upscale_label_map(label_map: np.ndarray, shape: Tuple[int,
                                                          int]) -> np.ndarray:
    """Resize labels to ``shape`` by pixel-centre nearest neighbour
    (``cv2.INTER_NEAREST_EXACT``, as the tile merger's way back), so ids and
    types are only copied, never mixed, and ``256 -> 480 -> 256`` gives the
    original map back."""
    label_map = np.ascontiguousarray(label_map)
    if label_map.shape[:2] == tuple(shape):
        return label_map.copy()
    work = label_map
    if label_map.dtype not in (np.uint8, np.uint16, np.int16, np.int32,
                               np.float32):
        work = label_map.astype(np.int32)
    out = cv2.resize(
        work, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST_EXACT)
    return out.astype(label_map.dtype, copy=False)


@TRANSFORMS.register_module()
class UpscaleCrop(BaseTransform):
    """Upscale a tile and keep one crop of it (CellVTA's CoNIC "40x"
    training/validation samples).

    The image is resized bilinearly with pixel centres aligned (as
    ``F.interpolate(mode='bilinear', align_corners=False)`` in CellVTA's
    inference), every map in ``seg_fields`` by pixel-centre nearest
    neighbour (ids and types are copied, never mixed); then the crop at
    ``crop_offset`` is cut from all of them. Where the reference's label
    resize is unknown (its 40x training data was only shipped as a zip),
    nearest neighbour keeps each instance a single type.

    Place it right after the loading transforms (before augmentation and
    ``GenerateHVMap``). The dataset sets the required keys.

    Required Keys:

    - img, img_shape, seg_fields and the maps it lists
    - upsampled_shape (tuple[int, int]): size of the upscaled tile (480, 480)
    - crop_offset (tuple[int, int]): ``(y, x)`` of the crop in it
    - crop_size (tuple[int, int]): ``(h, w)`` of the crop (256, 256)

    Modified Keys:

    - img, img_shape, every map in seg_fields
    - ori_shape: the crop's ``(h, w)``. The sample *is* the crop: a
      segmentor's prediction stays in crop coordinates.

    Added Keys:

    - tile_shape (tuple[int, int]): ``(H, W)`` of the source tile as loaded.
    - scale_factor (tuple[float, float]): ``(w, h)`` upscaling factors.

    Merging crop predictions back to the tile: paste crop ``k`` of tile
    ``tile_index`` at ``crop_offset`` in an ``upsampled_shape`` canvas
    (:class:`mmpathseg.postprocessing.InstanceTileMerger`) and resize the
    merged map to ``tile_shape`` (``merger.result(output_shape=tile_shape)``).
    """

    def transform(self, results: dict) -> dict:
        missing = [
            k for k in ('upsampled_shape', 'crop_offset', 'crop_size')
            if k not in results
        ]
        if missing:
            raise KeyError(
                f'UpscaleCrop needs {missing} in the sample of '
                f'{results.get("img_path", "?")}; they are set by '
                "`CoNICDataset(upscale=dict(mode='crops', ...))`, one sample "
                'per crop.')
        if 'gt_hv_map' in results:
            raise ValueError(
                'UpscaleCrop: results already hold `gt_hv_map`; put '
                'GenerateHVMap after UpscaleCrop (HV targets are made from '
                'the final instance map).')
        height, width = to_pair(results['upsampled_shape'], 'upsampled_shape')
        crop_h, crop_w = to_pair(results['crop_size'], 'crop_size')
        y, x = (int(v) for v in results['crop_offset'])
        if not (0 <= y <= height - crop_h and 0 <= x <= width - crop_w):
            raise ValueError(
                f'UpscaleCrop: crop at {(y, x)} of size {(crop_h, crop_w)} '
                f'does not fit in the upscaled tile {(height, width)}.')
        img = results['img']
        tile_h, tile_w = img.shape[:2]
        up = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
        results['img'] = np.ascontiguousarray(up[y:y + crop_h, x:x + crop_w])
        for key in dict.fromkeys(results.get('seg_fields', [])):
            label = results[key]
            if tuple(label.shape[:2]) != (tile_h, tile_w):
                raise ValueError(
                    f'UpscaleCrop: {key} has size {label.shape[:2]} but the '
                    f'image {(tile_h, tile_w)}.')
            up = upscale_label_map(label, (height, width))
            results[key] = np.ascontiguousarray(up[y:y + crop_h, x:x + crop_w])
        results['tile_shape'] = (tile_h, tile_w)
        results['img_shape'] = (crop_h, crop_w)
        results['ori_shape'] = (crop_h, crop_w)
        results['scale_factor'] = (width / tile_w, height / tile_h)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
