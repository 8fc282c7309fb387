# Copyright (c) mmpathseg contributors. All rights reserved.
"""Nuclei as COCO instance results with RLE masks (pycocotools).

:func:`instances_to_coco` gives the result list ``loadRes`` reads
(``image_id``, ``category_id``, ``segmentation`` compressed RLE, ``score``,
``bbox`` ``[x, y, w, h]``, ``area``); :func:`coco_dataset` wraps results of
several images into a dataset dict (``images``, ``categories``,
``annotations``) that ``pycocotools.coco.COCO`` loads.

The RLE of each nucleus is computed from its bounding-box window only (the
runs of its pixels in column-major order), so exporting a gigapixel region
never makes a full-size mask per nucleus.
"""
import os
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from .io import write_json_atomic


def _mask_api():
    try:
        from pycocotools import mask as mask_api
    except ImportError as err:  # pragma: no cover - listed in runtime deps
        raise ImportError('COCO export needs pycocotools: `pip install '
                          'pycocotools` (requirements/runtime.txt).') from err
    return mask_api


def instance_rle(inst_map: np.ndarray, inst_id: int,
                 bbox: Sequence[float]) -> Optional[Dict]:
    """Compressed COCO RLE of one instance of an instance map.

    Args:
        inst_map (np.ndarray): ``(H, W)`` integer ids (may be a memmap).
        inst_id (int): The instance.
        bbox (Sequence[float]): ``(x1, y1, x2, y2)`` window holding all its
            pixels (exclusive x2, y2).

    Returns:
        dict | None: ``{'size': [H, W], 'counts': str}``, or None when the
        window holds no pixel of the instance.
    """
    height, width = inst_map.shape
    x1, y1 = max(int(np.floor(bbox[0])), 0), max(int(np.floor(bbox[1])), 0)
    x2 = min(int(np.ceil(bbox[2])), width)
    y2 = min(int(np.ceil(bbox[3])), height)
    window = np.asarray(inst_map[y1:y2, x1:x2]) == inst_id
    # Column-major positions of the pixels: x * H + y, ascending.
    xs, ys = np.nonzero(window.T)
    if xs.size == 0:
        return None
    pos = (xs + x1).astype(np.int64) * height + (ys + y1)
    breaks = np.flatnonzero(np.diff(pos) != 1) + 1
    starts = pos[np.r_[0, breaks]]
    ends = pos[np.r_[breaks - 1, pos.size - 1]] + 1
    counts = np.empty(2 * starts.size + 1, dtype=np.int64)
    counts[0] = starts[0]
    counts[1::2] = ends - starts
    counts[2:-1:2] = starts[1:] - ends[:-1]
    counts[-1] = height * width - ends[-1]
    if counts[-1] == 0:
        counts = counts[:-1]
    rle = _mask_api().frPyObjects(
        dict(size=[height, width], counts=counts.tolist()), height, width)
    return dict(size=[height, width], counts=rle['counts'].decode('ascii'))


def instances_to_coco(inst_map: np.ndarray,
                      ids: Sequence[int],
                      labels: Sequence[int],
                      bboxes: Sequence[Sequence[float]],
                      scores: Optional[Sequence[float]] = None,
                      image_id: int = 1) -> List[Dict]:
    """COCO instance results of one image.

    Args:
        inst_map (np.ndarray): ``(H, W)`` instance ids.
        ids (Sequence[int]): Instance ids to export.
        labels (Sequence[int]): Their types; ``category_id = label``
            (background 0 is not a category).
        bboxes (Sequence): ``(x1, y1, x2, y2)`` windows holding them.
        scores (Sequence[float], optional): Type scores; 1 when omitted.
        image_id (int): The image's id. Defaults to 1.

    Returns:
        list[dict]: One result per instance with pixels.
    """
    mask_api = _mask_api()
    results = []
    for k, inst_id in enumerate(ids):
        rle = instance_rle(inst_map, int(inst_id), bboxes[k])
        if rle is None:
            continue
        coded = dict(size=rle['size'], counts=rle['counts'].encode('ascii'))
        x, y, w, h = (float(v) for v in mask_api.toBbox(coded))
        results.append(
            dict(
                image_id=int(image_id),
                category_id=int(labels[k]),
                segmentation=rle,
                score=float(scores[k]) if scores is not None else 1.0,
                bbox=[x, y, w, h],
                area=float(mask_api.area(coded)),
                instance_id=int(inst_id)))
    return results


def coco_dataset(images: Sequence[Dict], annotations: Sequence[Dict],
                 class_names: Sequence[str]) -> Dict:
    """A COCO dataset dict (``pycocotools.coco.COCO`` loads it).

    Args:
        images (Sequence[dict]): ``{'id', 'file_name', 'height',
            'width'}`` per image.
        annotations (Sequence[dict]): Results of :func:`instances_to_coco`
            (an ``id`` and ``iscrowd=0`` are added).
        class_names (Sequence[str]): Names by label; label 0 (background)
            is not a category.

    Returns:
        dict: ``images``, ``categories``, ``annotations``.
    """
    anns = []
    for k, ann in enumerate(annotations, start=1):
        anns.append(dict(ann, id=k, iscrowd=0))
    categories = [
        dict(id=i, name=str(name), supercategory='nucleus')
        for i, name in enumerate(class_names) if i > 0
    ]
    return dict(images=list(images), categories=categories, annotations=anns)


def write_coco(obj: Union[Dict, List], path: Union[str, os.PathLike]) -> str:
    """Write a COCO dataset dict or result list atomically."""
    return write_json_atomic(obj, path)
