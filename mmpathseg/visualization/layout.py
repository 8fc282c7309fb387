# Copyright (c) mmpathseg contributors. All rights reserved.
"""Putting drawn panels together into one legible picture: upscaling small
images, word-wrapped text banners, panel titles and side-by-side panels.

Everything works on ``(H, W, 3)`` uint8 RGB arrays and returns new arrays.
Text is drawn with OpenCV's Hershey font, about 13 px high at the default
scale: small images are upscaled (:func:`upscale_for_drawing`) before
anything is drawn on them, and :func:`drawing_scale` grows text and lines
on large panels, so pictures read alike from a 64 px X-ray to a 1024 px
slice.
"""
import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

Color = Tuple[int, int, int]
TextLine = Tuple[str, Color]

FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.5
TEXT_COLOR: Color = (0, 0, 0)
BANNER_COLOR: Color = (255, 255, 255)
GAP_COLOR: Color = (255, 255, 255)
MARGIN = 4


def upscale_for_drawing(image: np.ndarray,
                        min_size: int = 256,
                        max_factor: int = 8) -> Tuple[np.ndarray, int]:
    """Enlarge a small image by an integer factor (nearest neighbour, so
    every source pixel stays a clean block) until its longer side reaches
    ``min_size``.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8.
        min_size (int): Target length of the longer side. 0 disables.
        max_factor (int): Largest factor. Defaults to 8.

    Returns:
        tuple: ``(image (f*H, f*W, 3), f)`` with ``f >= 1``.
    """
    longer = max(image.shape[:2])
    factor = 1
    if min_size > 0 and 0 < longer < min_size:
        factor = min(int(math.ceil(min_size / longer)), max_factor)
    if factor == 1:
        return image.copy(), 1
    return resize_nearest(image, image.shape[0] * factor,
                          image.shape[1] * factor), factor


def resize_nearest(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(H, W[, C])`` array (bool or numeric) resized to ``(height,
    width)`` by nearest neighbour; bool stays bool."""
    array = np.asarray(array)
    if array.shape[:2] == (height, width):
        return array.copy()
    src = array.astype(np.uint8) if array.dtype == bool else array
    out = cv2.resize(
        src, (int(width), int(height)), interpolation=cv2.INTER_NEAREST)
    return out.astype(bool) if array.dtype == bool else out


def drawing_scale(height: int, width: int) -> Tuple[float, int]:
    """Font scale and line width (contours, boxes) for drawing on an
    ``(height, width)`` panel: 0.5 and 2 px up to 512 / 256 px, growing with
    the longer side beyond, so 1024 px panels get 1.0 and 4 px."""
    longer = max(int(height), int(width))
    return FONT_SCALE * max(1.0, longer / 512.0), max(2, round(longer / 256))


def _text_thickness(scale: float) -> int:
    return 1 if scale < 0.8 else 2


def _line_metrics(scale: float) -> Tuple[int, int, int]:
    """``(line height, baseline offset in the line, stroke)`` of a text
    line at ``scale``."""
    thickness = _text_thickness(scale)
    (_, ascent), descent = cv2.getTextSize('Ag', FONT, scale, thickness)
    pad = max(4, int(round(8 * scale)))
    return ascent + descent + pad, pad // 2 + ascent, thickness


def text_size(text: str,
              scale: float = FONT_SCALE,
              thickness: Optional[int] = None) -> Tuple[int, int]:
    """``(width, height)`` in pixels of one line of ``text`` (stroke as
    drawn at ``scale`` unless ``thickness`` is given)."""
    if thickness is None:
        thickness = _text_thickness(scale)
    (width, height), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    return width, height + baseline


def wrap_text(text: str,
              width: int,
              scale: float = FONT_SCALE,
              max_lines: Optional[int] = None) -> List[str]:
    """Word-wrap ``text`` into lines at most ``width`` pixels wide (a word
    longer than the width is cut); with ``max_lines`` the last kept line
    ends in ``'...'``."""
    lines: List[str] = []
    for word in str(text).split():
        while text_size(word, scale)[0] > width and len(word) > 1:
            # A word wider than the banner: cut it where it still fits.
            cut = max(1,
                      int(len(word) * width / text_size(word, scale)[0]) - 1)
            lines.append(word[:cut])
            word = word[cut:]
        if lines and text_size(f'{lines[-1]} {word}', scale)[0] <= width:
            lines[-1] = f'{lines[-1]} {word}'
        else:
            lines.append(word)
    lines = lines or ['']
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_size(last + '...', scale)[0] > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + '...'
    return lines


def text_banner(width: int,
                lines: Sequence[TextLine],
                scale: float = FONT_SCALE,
                max_lines_each: Optional[int] = None) -> np.ndarray:
    """A white band ``width`` pixels wide with ``lines`` of coloured text,
    each word-wrapped to the width.

    Args:
        width (int): Banner width in pixels.
        lines (Sequence[tuple]): ``(text, (r, g, b))`` per line.
        scale (float): Font scale (0.5: about 13 px per line).
        max_lines_each (int, optional): Wrapped lines kept per input line.

    Returns:
        np.ndarray: ``(h, width, 3)`` uint8 RGB; ``h`` fits the text.
    """
    line_h, ascent, thickness = _line_metrics(scale)
    rows: List[TextLine] = []
    for text, color in lines:
        for part in wrap_text(text, width - 2 * MARGIN, scale, max_lines_each):
            rows.append((part, color))
    banner = np.empty((line_h * len(rows) + 2 * MARGIN, width, 3), np.uint8)
    banner[:] = BANNER_COLOR
    for i, (text, color) in enumerate(rows):
        baseline = MARGIN + line_h * i + ascent
        cv2.putText(banner, text, (MARGIN, baseline), FONT, scale,
                    tuple(int(c) for c in color), thickness, cv2.LINE_AA)
    return banner


def add_title(panel: np.ndarray,
              title: str,
              color: Color = TEXT_COLOR,
              scale: float = FONT_SCALE) -> np.ndarray:
    """``panel`` with a one-line (or wrapped) ``title`` banner above."""
    banner = text_banner(panel.shape[1], [(title, color)], scale)
    return np.concatenate([banner, panel], axis=0)


def hstack_panels(panels: Sequence[np.ndarray], gap: int = 6) -> np.ndarray:
    """Panels side by side, separated by ``gap`` white columns, aligned at
    the bottom (a panel whose title wrapped to more lines is padded white at
    the top of the others), so the images of titled panels line up.

    Returns:
        np.ndarray: ``(max h, sum w + gaps, 3)`` uint8 RGB.
    """
    if not panels:
        raise ValueError('hstack_panels: no panel to stack.')
    height = max(p.shape[0] for p in panels)
    parts = []
    for i, panel in enumerate(panels):
        if i:
            spacer = np.empty((height, gap, 3), np.uint8)
            spacer[:] = GAP_COLOR
            parts.append(spacer)
        pad = height - panel.shape[0]
        if pad:
            fill = np.empty((pad, panel.shape[1], 3), np.uint8)
            fill[:] = GAP_COLOR
            panel = np.concatenate([fill, panel], axis=0)
        parts.append(panel)
    return np.concatenate(parts, axis=1)


def legend_banner(width: int,
                  items: Sequence[TextLine],
                  scale: float = FONT_SCALE,
                  spacing: int = 14) -> np.ndarray:
    """Coloured ``(text, color)`` items flowed left to right, wrapping to
    new lines at ``width`` (a legend: object names in their colours).

    Returns:
        np.ndarray: ``(h, width, 3)`` uint8 RGB on white.
    """
    line_h, ascent, thickness = _line_metrics(scale)
    spacing = int(round(spacing * scale / FONT_SCALE))
    rows: List[List[Tuple[int, str, Color]]] = [[]]
    x = MARGIN
    for text, color in items:
        text = wrap_text(text, width - 2 * MARGIN, scale, 1)[0]
        w = text_size(text, scale, thickness)[0]
        if rows[-1] and x + w > width - MARGIN:
            rows.append([])
            x = MARGIN
        rows[-1].append((x, text, color))
        x += w + spacing
    banner = np.empty((line_h * len(rows) + 2 * MARGIN, width, 3), np.uint8)
    banner[:] = BANNER_COLOR
    for i, row in enumerate(rows):
        baseline = MARGIN + line_h * i + ascent
        for x, text, color in row:
            cv2.putText(banner, text, (x, baseline), FONT, scale,
                        tuple(int(c) for c in color), thickness, cv2.LINE_AA)
    return banner
