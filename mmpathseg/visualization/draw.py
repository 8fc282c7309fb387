# Copyright (c) mmpathseg contributors. All rights reserved.
"""Overlays drawn with OpenCV on ``(H, W, 3)`` uint8 RGB images, one
function per kind of result, shared by the visualizer, the inferencer and
the task adapters of every family:

- :func:`draw_instances`: nuclei (or any instances) filled with the colour
  of their type and outlined;
- :func:`draw_semantic`: a class map blended over the image;
- :func:`draw_prompted_mask`: a promptable model's mask with its box and
  point prompts (positive points green, negative red);
- :func:`draw_referring`: the targets of a referring expression, each in its
  colour, with the expression written above (and a rejection shown as
  such);
- :func:`draw_masks` / :func:`draw_object_prompts`: several objects at once,
  each mask and its prompts in the object's colour (the pictures of
  ``tools/test.py --show-dir``).

Every function returns a new array and leaves ``image`` untouched.
"""
from typing import Callable, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

Color = Tuple[int, int, int]
ColorFn = Callable[[int], Color]
POSITIVE_COLOR: Color = (0, 255, 0)
NEGATIVE_COLOR: Color = (255, 0, 0)
BOX_COLOR: Color = (255, 255, 0)
#: Colours of the objects (prompts, referring targets) of one picture, in
#: order; no pure green or red, which mark positive and negative clicks.
OBJECT_COLORS: Tuple[Color, ...] = (
    (30, 144, 255), (255, 140, 0), (186, 85, 211), (0, 206, 209),
    (255, 20, 147), (255, 215, 0), (160, 82, 45), (100, 149, 237))


def object_color(index: int) -> Color:
    """Colour of the ``index``-th object of a picture (a fixed cycle)."""
    return OBJECT_COLORS[index % len(OBJECT_COLORS)]


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError('expected an (H, W, 3) uint8 RGB image, got '
                         f'{image.dtype} {image.shape}.')
    return np.ascontiguousarray(image)


def _blend(image: np.ndarray, overlay: np.ndarray, mask: np.ndarray,
           alpha: float) -> np.ndarray:
    out = image.copy()
    out[mask] = (alpha * overlay[mask] +
                 (1 - alpha) * image[mask]).round().astype(np.uint8)
    return out


def draw_instances(image: np.ndarray,
                   contours: Sequence[np.ndarray],
                   labels: Sequence[int],
                   color_of: Union[ColorFn, Sequence[Color]],
                   alpha: float = 0.35,
                   thickness: int = 1) -> np.ndarray:
    """Fill each instance with its type's colour and draw its contour.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        contours (Sequence[np.ndarray]): ``(K, 2)`` int ``(x, y)`` outer
            contour per instance.
        labels (Sequence[int]): Type per instance.
        color_of (callable | Sequence): ``label -> (r, g, b)`` or a palette
            indexed by label.
        alpha (float): Fill opacity; 0 draws contours only. Defaults to
            0.35.
        thickness (int): Contour width in pixels. Defaults to 1.

    Returns:
        np.ndarray: The overlay, ``(H, W, 3)`` uint8 RGB.
    """
    image = _check_image(image)
    if not callable(color_of):
        palette = [tuple(int(c) for c in p) for p in color_of]
        color_of = palette.__getitem__
    fill = image.copy()
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    polys = []
    for contour, label in zip(contours, labels):
        pts = np.asarray(contour, dtype=np.int32).reshape(-1, 1, 2)
        if len(pts) == 0:
            continue
        color = tuple(int(c) for c in color_of(int(label)))
        polys.append((pts, color))
        cv2.fillPoly(fill, [pts], color)
        cv2.fillPoly(mask, [pts], 1)
    out = _blend(image, fill, mask.astype(bool), alpha) if alpha > 0 \
        else image.copy()
    for pts, color in polys:
        cv2.polylines(out, [pts], True, color, thickness)
    return out


def draw_semantic(image: np.ndarray,
                  sem_seg: np.ndarray,
                  palette: Sequence[Color],
                  alpha: float = 0.5,
                  ignore: Sequence[int] = (0, 255)) -> np.ndarray:
    """Blend the colour of each pixel's class over the image.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        sem_seg (np.ndarray): ``(H, W)`` class indices.
        palette (Sequence): RGB per class.
        alpha (float): Opacity. Defaults to 0.5.
        ignore (Sequence[int]): Classes left undrawn (background, ignore).

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    image = _check_image(image)
    sem_seg = np.asarray(sem_seg)
    colors = np.zeros((max(int(sem_seg.max(initial=0)), len(palette)) + 1,
                       3), dtype=np.uint8)
    colors[:len(palette)] = np.asarray(palette, dtype=np.uint8)
    mask = ~np.isin(sem_seg, list(ignore))
    overlay = colors[np.clip(sem_seg, 0, len(colors) - 1)]
    out = _blend(image, overlay, mask, alpha)
    edges = cv2.morphologyEx(
        sem_seg.astype(np.int32).astype(np.float32), cv2.MORPH_GRADIENT,
        np.ones((3, 3), np.uint8)) > 0
    out[edges & mask] = overlay[edges & mask]
    return out


def _draw_mask(out: np.ndarray, mask: np.ndarray, color: Color,
               alpha: float, thickness: int = 1) -> np.ndarray:
    mask = np.asarray(mask).astype(bool)
    overlay = np.empty_like(out)
    overlay[:] = color
    out = _blend(out, overlay, mask, alpha)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, color, thickness)
    return out


def draw_masks(image: np.ndarray,
               masks: Sequence[np.ndarray],
               colors: Optional[Sequence[Color]] = None,
               alpha: float = 0.45,
               thickness: int = 2) -> np.ndarray:
    """Several masks blended over the image, each outlined in its colour.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        masks (Sequence[np.ndarray]): ``(H, W)`` bool / 0-1 per object.
        colors (Sequence, optional): RGB per mask; :data:`OBJECT_COLORS`
            in order when omitted.
        alpha (float): Fill opacity. Defaults to 0.45.
        thickness (int): Outline width in pixels. Defaults to 2.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    out = _check_image(image).copy()
    for i, mask in enumerate(masks):
        color = tuple(colors[i]) if colors is not None else object_color(i)
        out = _draw_mask(out, mask, color, alpha, thickness)
    return out


def draw_object_prompts(image: np.ndarray,
                        boxes: Optional[np.ndarray] = None,
                        points: Optional[np.ndarray] = None,
                        point_labels: Optional[np.ndarray] = None,
                        colors: Optional[Sequence[Color]] = None,
                        radius: int = 5,
                        thickness: int = 2) -> np.ndarray:
    """The prompts of ``K`` objects: each box in its object's colour; each
    click a disc, green for a positive and red for a negative click, ringed
    in its object's colour. Padding clicks (label -1) are not drawn.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        boxes (np.ndarray, optional): ``(K, 4)`` ``(x1, y1, x2, y2)``.
        points (np.ndarray, optional): ``(K, P, 2)`` ``(x, y)``.
        point_labels (np.ndarray, optional): ``(K, P)``: 1 positive, 0
            negative, -1 padding; all positive when omitted.
        colors (Sequence, optional): RGB per object
            (:data:`OBJECT_COLORS` when omitted).
        radius (int): Click disc radius in pixels. Defaults to 5.
        thickness (int): Box and ring width. Defaults to 2.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    out = _check_image(image).copy()

    def color_of(i):
        if colors is not None:
            return tuple(int(c) for c in colors[i])
        return object_color(i)

    if boxes is not None:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            cv2.rectangle(out, (int(round(x1)), int(round(y1))),
                          (int(round(x2)), int(round(y2))), color_of(i),
                          thickness)
    if points is not None:
        points = np.asarray(points, dtype=np.float64)
        points = points.reshape(points.shape[0], -1, 2)
        if point_labels is None:
            labels = np.ones(points.shape[:2], np.int64)
        else:
            labels = np.asarray(point_labels).reshape(points.shape[:2])
        for i in range(points.shape[0]):
            for (x, y), lab in zip(points[i], labels[i]):
                if lab < 0:
                    continue
                center = (int(round(x)), int(round(y)))
                fill = POSITIVE_COLOR if lab > 0 else NEGATIVE_COLOR
                cv2.circle(out, center, radius + thickness, color_of(i), -1,
                           cv2.LINE_AA)
                cv2.circle(out, center, radius, fill, -1, cv2.LINE_AA)
    return out


def draw_prompted_mask(image: np.ndarray,
                       mask: Optional[np.ndarray] = None,
                       boxes: Optional[np.ndarray] = None,
                       points: Optional[np.ndarray] = None,
                       point_labels: Optional[Sequence[int]] = None,
                       mask_color: Color = (30, 144, 255),
                       alpha: float = 0.45,
                       radius: int = 4) -> np.ndarray:
    """A promptable model's mask with the prompts that produced it.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        mask (np.ndarray, optional): ``(H, W)`` bool / 0-1 mask.
        boxes (np.ndarray, optional): ``(N, 4)`` ``(x1, y1, x2, y2)``.
        points (np.ndarray, optional): ``(P, 2)`` ``(x, y)``.
        point_labels (Sequence[int], optional): 1 positive (green), 0
            negative (red) per point; all positive when omitted.
        mask_color (tuple): RGB of the mask.
        alpha (float): Mask opacity. Defaults to 0.45.
        radius (int): Point marker radius. Defaults to 4.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.
    """
    out = _check_image(image).copy()
    if mask is not None:
        out = _draw_mask(out, mask, mask_color, alpha)
    if boxes is not None:
        for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(
                -1, 4):
            cv2.rectangle(out, (int(round(x1)), int(round(y1))),
                          (int(round(x2)), int(round(y2))), BOX_COLOR, 2)
    if points is not None:
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if point_labels is None:
            point_labels = [1] * len(points)
        for (x, y), lab in zip(points, point_labels):
            color = POSITIVE_COLOR if int(lab) > 0 else NEGATIVE_COLOR
            center = (int(round(x)), int(round(y)))
            cv2.circle(out, center, radius, color, -1)
            cv2.circle(out, center, radius, (255, 255, 255), 1)
    return out


def _text_banner(out: np.ndarray, lines: Sequence[str],
                 colors: Sequence[Color]) -> np.ndarray:
    """Stack a white banner with ``lines`` of text above ``out``."""
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1
    line_h = 18
    banner = np.full((line_h * len(lines) + 6, out.shape[1], 3), 255,
                     dtype=np.uint8)
    for i, (text, color) in enumerate(zip(lines, colors)):
        cv2.putText(banner, text, (4, line_h * (i + 1)), font, scale,
                    tuple(int(c) for c in color), thick, cv2.LINE_AA)
    return np.concatenate([banner, out], axis=0)


def draw_referring(image: np.ndarray,
                   masks: Sequence[np.ndarray],
                   expression: str,
                   rejected: bool = False,
                   target_names: Optional[Sequence[str]] = None,
                   colors: Optional[Sequence[Color]] = None,
                   alpha: float = 0.45) -> np.ndarray:
    """Targets of a referring expression, with the expression above.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        masks (Sequence[np.ndarray]): ``(H, W)`` mask per target (empty for
            none).
        expression (str): The referring expression.
        rejected (bool): The model rejected the expression (no target); a
            line ``[REJ] no target`` is written.
        target_names (Sequence[str], optional): Name per target, written in
            its colour.
        colors (Sequence, optional): RGB per target; a fixed cycle when
            omitted.
        alpha (float): Mask opacity. Defaults to 0.45.

    Returns:
        np.ndarray: ``(H + banner, W, 3)`` uint8 RGB.
    """
    out = _check_image(image).copy()
    cycle = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48),
             (145, 30, 180), (70, 240, 240)]
    colors = list(colors) if colors is not None else [
        cycle[i % len(cycle)] for i in range(len(masks))
    ]
    for mask, color in zip(masks, colors):
        out = _draw_mask(out, mask, tuple(color), alpha)
    lines, line_colors = [expression], [(0, 0, 0)]
    if rejected:
        lines.append('[REJ] no target')
        line_colors.append(NEGATIVE_COLOR)
    elif target_names is not None:
        for name, color in zip(target_names, colors):
            lines.append(f'[SEG] {name}')
            line_colors.append(tuple(color))
    return _text_banner(out, lines, line_colors)


def instance_contours(inst_map: np.ndarray):
    """Outer contours and ids of an ``(H, W)`` instance map (for drawing
    ground truth), one per instance (its largest part).

    Returns:
        tuple: ``(ids (N,), contours list of (K, 2) int32 (x, y))``.
    """
    from mmpathseg.postprocessing import instance_table
    table = instance_table(np.asarray(inst_map).astype(np.int32),
                           drop_degenerate=False)
    return table['ids'], list(table['contours'])
