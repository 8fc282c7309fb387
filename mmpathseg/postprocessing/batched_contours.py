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
from typing import List, NamedTuple

import cv2
import numpy as np


class CanvasLayout(NamedTuple):
    """Where each instance's bounding-box crop sits on the packed canvas.

    Attributes:
        x0 (np.ndarray): ``(N,)`` canvas column of each crop's left edge.
        y0 (np.ndarray): ``(N,)`` canvas row of each crop's top edge.
        shift (np.ndarray): ``(N,)`` flat shift from image to canvas: pixel
            ``(y, x)`` of instance k lands at ``y * width + x + shift[k]``
            with ``width`` the canvas width.
        width (int): canvas width.
        height (int): canvas height.
        by_height (np.ndarray): ``(N,)`` instance order on the canvas.
        row_y (np.ndarray): ``(R,)`` top row of each canvas row of crops.
    """
    x0: np.ndarray
    y0: np.ndarray
    shift: np.ndarray
    width: int
    height: int
    by_height: np.ndarray
    row_y: np.ndarray


def canvas_layout(boxes: np.ndarray, image_width: int) -> CanvasLayout:
    """Lay the crops out one pixel of background apart: sorted by height,
    placed left to right and wrapped into rows, so each row holds crops of
    similar height and little area is wasted.

    Args:
        boxes (np.ndarray): ``(N, 4)`` int (x1, y1, x2, y2) boxes, x2 and y2
            exclusive, N > 0.
        image_width (int): width of the image the boxes refer to.

    Returns:
        CanvasLayout: the placement.
    """
    num = boxes.shape[0]
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    # A crop starts in row r when its running x start falls in
    # [r * wrap, (r + 1) * wrap); rows are at most wrap + max width + 2 wide.
    # The canvas has the image's width when that leaves room.
    max_w = int(widths.max())
    wrap = image_width - max_w - 2
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
    x0 = np.empty(num, dtype=np.int64)
    y0 = np.empty(num, dtype=np.int64)
    x0[by_height] = run_x - row_of * wrap + 1
    y0[by_height] = row_y[row_of]
    shift = (y0 - boxes[:, 1]) * canvas_w + (x0 - boxes[:, 0])
    return CanvasLayout(x0, y0, shift, int(canvas_w), int(row_h.sum()) + 1,
                        by_height, row_y)


def split_canvas_contours(canvas: np.ndarray, layout: CanvasLayout,
                          boxes: np.ndarray) -> List[np.ndarray]:
    """Trace a painted canvas and hand each instance its contour, in image
    coordinates (see the module docstring for which contour)."""
    num = boxes.shape[0]
    x0, y0, by_height, row_y = (layout.x0, layout.y0, layout.by_height,
                                layout.row_y)
    canvas_w = layout.width
    found = cv2.findContours(canvas, cv2.RETR_EXTERNAL,
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
    if int(areas.size) == 0:
        return []
    boxes = np.asarray(boxes, dtype=np.int64)
    layout = canvas_layout(boxes, width)
    position = pixels + np.repeat(layout.shift, areas)
    if layout.width != width:
        position += (pixels // width) * (layout.width - width)
    canvas = np.zeros(layout.height * layout.width, dtype=np.uint8)
    canvas[position] = 1
    return split_canvas_contours(
        canvas.reshape(layout.height, layout.width), layout, boxes)


def trace_label_contours(inst_map: np.ndarray, ids: np.ndarray,
                         boxes: np.ndarray) -> List[np.ndarray]:
    """:func:`trace_contours` straight from an instance map, painting the
    canvas with the compiled kernel (:func:`mmpathseg.ops.paint_canvas`).

    Args:
        inst_map (np.ndarray): ``(H, W)`` int32 instance map.
        ids (np.ndarray): ``(N,)`` the ids present in ``inst_map``,
            ascending; every id > 0 of the map must be listed.
        boxes (np.ndarray): ``(N, 4)`` their boxes, as in
            :func:`trace_contours`.

    Returns:
        list[np.ndarray]: N contours, as :func:`trace_contours`.
    """
    from mmpathseg.ops import paint_canvas
    if int(ids.size) == 0:
        return []
    boxes = np.asarray(boxes, dtype=np.int64)
    layout = canvas_layout(boxes, inst_map.shape[1])
    # Ids not listed keep an out-of-canvas shift, so the kernel refuses them.
    shift_of = np.full(int(ids[-1]) + 1, -(1 << 62), dtype=np.int64)
    shift_of[ids] = layout.shift
    canvas = paint_canvas(inst_map, shift_of, layout.width, layout.height)
    return split_canvas_contours(canvas, layout, boxes)
