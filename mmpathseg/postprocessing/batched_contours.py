# Copyright (c) mmpathseg contributors. All rights reserved.
"""Outer contours of many instances with a few ``cv2.findContours`` calls.

The reference traces each instance on its own bounding-box crop,
``cv2.findContours(crop, RETR_TREE, CHAIN_APPROX_SIMPLE)[0][0]``. Here the
crops are laid out one pixel of background apart on one canvas (sorted by
height and wrapped into rows, so little area is wasted) and traced with one
call. Border following is local, so each crop gives the same points as on its
own; they are shifted back and handed out per instance.

Which contour the reference's ``[0]`` is: OpenCV lists the top-level
(8-connected) components of an image in reverse order of discovery, each
followed by its holes. For a connected instance that is its outer contour;
for an instance split in several components it is the outer contour of the
component whose first pixel comes last in raster order. ``RETR_EXTERNAL``
returns exactly the top-level contours, each starting at its component's first
raster pixel, so the same one is picked by that rule.
"""
from typing import List

import cv2
import numpy as np


def trace_contours(pixels: np.ndarray, areas: np.ndarray, width: int,
                   boxes: np.ndarray) -> List[np.ndarray]:
    """Trace the outer contour of every instance.

    Args:
        pixels (np.ndarray): ``(P,)`` int flat indices (``row * width +
            col``) of the instances' pixels, grouped by instance: instance k
            owns ``pixels[areas[:k].sum():areas[:k + 1].sum()]``.
        areas (np.ndarray): ``(N,)`` pixel count of each instance (> 0).
        width (int): width of the image the flat indices refer to.
        boxes (np.ndarray): ``(N, 4)`` int bounding boxes (x1, y1, x2, y2),
            x2 and y2 exclusive.

    Returns:
        list[np.ndarray]: N int32 ``(K, 2)`` (x, y) contours in image
        coordinates, equal to
        ``cv2.findContours(crop, RETR_TREE, CHAIN_APPROX_SIMPLE)[0][0]``
        (reshaped to ``(K, 2)``) of each instance's bounding-box crop, plus
        the crop's offset.
    """
    num = int(areas.size)
    if num == 0:
        return []
    boxes = np.asarray(boxes, dtype=np.int64)
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]

    # Canvas layout: crops sorted by height, placed left to right one pixel
    # apart and wrapped into rows, so each row holds crops of similar
    # height. A crop starts in row r when its running x start falls in
    # [r * wrap, (r + 1) * wrap); rows are at most wrap + max width + 2 wide.
    # The canvas has the image's width when that leaves room, so a pixel's
    # canvas index is its image index plus a per-instance shift.
    max_w = int(widths.max())
    wrap = width - max_w - 2
    if wrap < max(max_w, 16):
        wrap = max(256, max_w)
    canvas_w = wrap + max_w + 2
    by_height = np.argsort(-heights, kind='stable')
    steps = widths[by_height] + 1
    run_x = np.cumsum(steps) - steps
    row_of = run_x // wrap
    row_h = np.zeros(int(row_of[-1]) + 1, dtype=np.int64)
    np.maximum.at(row_h, row_of, heights[by_height] + 1)
    row_y = np.cumsum(row_h) - row_h + 1
    canvas_h = int(row_h.sum()) + 1
    x0 = np.empty(num, dtype=np.int64)
    y0 = np.empty(num, dtype=np.int64)
    x0[by_height] = run_x - row_of * wrap + 1
    y0[by_height] = row_y[row_of]

    shift = (y0 - boxes[:, 1]) * canvas_w + (x0 - boxes[:, 0])
    position = pixels + np.repeat(shift, areas)
    if canvas_w != width:
        position += (pixels // width) * (canvas_w - width)
    canvas = np.zeros(canvas_h * canvas_w, dtype=np.uint8)
    canvas[position] = 1
    found = cv2.findContours(
        canvas.reshape(canvas_h, canvas_w), cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_SIMPLE)[0]

    lengths = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    points = np.concatenate(found).reshape(-1, 2)
    ends = np.cumsum(lengths)
    heads = points[ends - lengths]  # start point (x, y) of each contour
    # The crop a contour lies in: in canvas order (row, x) the crops are
    # sorted, so search the start point's (row, x) among them.
    crop_key = y0[by_height] * canvas_w + x0[by_height]
    head_row = row_y[np.searchsorted(row_y, heads[:, 1], side='right') - 1]
    where = np.searchsorted(crop_key, head_row * canvas_w + heads[:, 0],
                            side='right')
    owners = by_height[where - 1]

    # One contour per instance: the top-level component found last.
    chosen = np.empty(num, dtype=np.int64)
    if len(found) == num:  # every instance is one 8-connected component
        chosen[owners] = np.arange(num)
    else:
        by_owner = np.lexsort((heads[:, 0], heads[:, 1], owners))
        sorted_owners = owners[by_owner]
        last = np.flatnonzero(sorted_owners[1:] != sorted_owners[:-1])
        last = by_owner[np.append(last, by_owner.size - 1)]
        chosen[owners[last]] = last

    back = np.stack([boxes[owners, 0] - x0[owners],
                     boxes[owners, 1] - y0[owners]], axis=1)
    points = (points + np.repeat(back, lengths, axis=0)).astype(np.int32)
    return [
        points[end - size:end] for end, size in zip(ends[chosen].tolist(),
                                                      lengths[chosen].tolist())
    ]
