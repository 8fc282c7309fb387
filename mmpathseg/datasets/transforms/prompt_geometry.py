# Copyright (c) mmpathseg contributors. All rights reserved.
"""Prompts from ground-truth masks: pure numpy functions.

Conventions (SAM's): a box is ``(x0, y0, x1, y1)`` in pixels of the mask it
came from, with ``x1``/``y1`` **exclusive** (skimage ``regionprops.bbox``,
which SAM-Med2D's and SyncSAM's ``get_boxes_from_mask`` rewrite as
``x0, y0, x1, y1``); a point is ``(x, y)`` = (column, row); point labels are
1 (foreground), 0 (background) and -1 (padding, ignored by SAM's prompt
encoder).
"""
from typing import Optional, Tuple

import numpy as np
from scipy import ndimage

# 8-connectivity, skimage.measure.label's default for 2D.
_EIGHT = np.ones((3, 3), dtype=bool)


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of a binary ``(H, W)`` mask.

    Ties go to the component met first in raster order (skimage's label
    order). An empty mask is returned unchanged.
    """
    labels, count = ndimage.label(mask > 0, structure=_EIGHT)
    if count <= 1:
        return labels > 0
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (int(np.argmax(sizes)) + 1)


def mask_box(mask: np.ndarray, largest: bool = True) -> np.ndarray:
    """Tight box ``(x0, y0, x1, y1)`` (max exclusive) of a binary mask.

    Args:
        mask (np.ndarray): ``(H, W)`` binary mask.
        largest (bool): Box of the largest 8-connected component (SAM-Med2D,
            SyncSAM) rather than of all foreground (MedSAM). Defaults to True.

    Returns:
        np.ndarray: ``(4, )`` float32. An empty mask gives the whole image
        ``(0, 0, W, H)``.
    """
    region = largest_component(mask) if largest else mask > 0
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    if rows.size == 0:
        return np.array([0, 0, mask.shape[1], mask.shape[0]], np.float32)
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1],
                    np.float32)


def translate_box(box: np.ndarray, max_pixel: int,
                  rng: np.random.Generator) -> np.ndarray:
    """SAM-Med2D / SyncSAM training jitter: translate the whole box.

    ``max_noise = min(max_pixel, int(0.5 * min(w, h)))`` (their
    ``noise_std = 0.1 * min(w, h)``, ``max_noise = min(max_pixel,
    int(noise_std * 5))``); one integer ``dx`` and one ``dy`` are drawn
    uniformly from ``[-max_noise, max_noise)`` and added to **both** corners.
    ``max_noise == 0`` (tiny objects, or ``max_pixel=0`` at test) leaves the
    box alone. Not clipped to the image, as in the references.
    """
    width, height = box[2] - box[0], box[3] - box[1]
    max_noise = min(int(max_pixel), int(0.1 * min(width, height) * 5))
    if max_noise <= 0:
        return box.copy()
    dx, dy = rng.integers(-max_noise, max_noise, size=2)
    return box + np.array([dx, dy, dx, dy], np.float32)


def expand_box(box: np.ndarray, max_shift: int, shape: Tuple[int, int],
               rng: np.random.Generator) -> np.ndarray:
    """MedSAM training jitter: move every side outwards by an integer drawn
    from ``[0, max_shift]`` and clip to the ``(H, W)`` image."""
    if max_shift <= 0:
        return box.copy()
    shift = rng.integers(0, max_shift + 1, size=4)
    height, width = shape
    x0 = max(0., box[0] - shift[0])
    y0 = max(0., box[1] - shift[1])
    x1 = min(float(width), box[2] + shift[2])
    y1 = min(float(height), box[3] + shift[3])
    return np.array([x0, y0, x1, y1], np.float32)


def sample_points(mask: np.ndarray, num_points: int,
                  rng: np.random.Generator,
                  num_negative: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Points drawn uniformly (with replacement) from a mask.

    ``num_points - num_negative`` positive points come from the foreground
    and ``num_negative`` negative points from the background (SAM-Med2D's
    ``init_point_sampling`` uses ``k // 2`` positives for ``k > 1``). An
    empty mask yields background points labelled 0 (as SAM-Med2D).

    Returns:
        tuple: ``coords`` ``(P, 2)`` float32 ``(x, y)`` and ``labels``
        ``(P, )`` int64.
    """
    fg = np.argwhere(mask > 0)
    bg = np.argwhere(mask == 0)
    num_pos = num_points - num_negative
    coords, labels = [], []
    for pool, count, label in ((fg, num_pos, 1), (bg, num_negative, 0)):
        if count <= 0:
            continue
        if pool.shape[0] == 0:
            pool, label = (bg, 0) if label == 1 else (fg, 1)
        picks = pool[rng.integers(0, pool.shape[0], size=count)]
        coords.append(picks[:, ::-1])
        labels.append(np.full(count, label, np.int64))
    coords = np.concatenate(coords).astype(np.float32)
    labels = np.concatenate(labels)
    order = rng.permutation(len(labels)) if num_negative else np.arange(
        len(labels))
    return coords[order], labels[order]


def make_rng(seed: Optional[int], key: str = '') -> np.random.Generator:
    """A numpy generator.

    ``seed=None`` (training): seeded from numpy's global state, which
    mmengine seeds per worker from ``randomness.seed``, so runs repeat.
    Otherwise derived from ``seed`` and ``key`` (e.g. the image path) only,
    so a test set gets the same prompts in every run, in any sample order and
    on any rank (a fixed prompt set, as SAM-Med2D's ``--prompt_path``).
    """
    if seed is None:
        return np.random.default_rng(np.random.randint(0, 2**31 - 1))
    digest = np.frombuffer(key.encode('utf-8') or b'\0', np.uint8)
    return np.random.default_rng([int(seed), *digest.tolist()])
