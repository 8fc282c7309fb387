# Copyright (c) mmpathseg contributors. All rights reserved.
"""Generate the synthetic H&E-like nuclei demo dataset in the PanNuke layout.

    python tools/misc/generate_demo_data.py [--out data/pannuke_demo]
        [--num-per-fold 32] [--num-folds 3] [--seed 0]

The tiles imitate haematoxylin & eosin (H&E) stained tissue at 40x: a pink
eosin background with fibres, texture and white lumina, and nuclei of the five
PanNuke types, stained purple by haematoxylin (colours come from a
Beer-Lambert two-stain model, so overlapping nuclei look darker where they
overlap):

=============  ===========================================================
Neoplastic     large, pleomorphic, irregular outline, coarse chromatin with
               a darker rim and nucleoli; grow in touching sheets
Inflammatory   small, round, very dark and uniform; scattered or in clumps
Connective     thin elongated spindles aligned with the fibres
Dead           small shrunken outline holding dark fragments
               (karyorrhexis) inside a bright eosinophilic halo
Epithelial     medium ovals, smooth chromatin, lined up around glands with
               white lumina or in small regular sheets
=============  ===========================================================

Each tile gets one of the 19 PanNuke tissue types, which sets its mix of
nucleus types, its layout and its stain. Touching nuclei keep distinct
instance ids; where two nuclei overlap, the pixels belong to the one painted
first and the one below stays a single connected region with most of its area
visible, so every pixel has exactly one instance.

The output follows the PanNuke release (``Fold k`` is 1-based; configs use the
0-based ``fold=k-1`` as CellViT does)::

    OUT/Fold k/images/foldk/images.npy  (N, 256, 256, 3) float64, RGB, 0..255
    OUT/Fold k/images/foldk/types.npy   (N,) unicode, tissue names
    OUT/Fold k/masks/foldk/masks.npy    (N, 256, 256, 6) float64:
        channels 0..4 instance ids of Neoplastic, Inflammatory, Connective,
        Dead, Epithelial (0 = none; ids unique within a tile across the five
        channels, not contiguous); channel 5 = 1 where no nucleus, else 0.
    OUT/demo_info.json                  generator settings, written last

Tile ``i`` of fold ``k`` only depends on ``(seed, k, i)``: a run with more
tiles per fold starts with the same tiles, and every run writes the same bytes.
Pure numpy/scipy, so it runs before mmcv is installed.
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage

__all__ = [
    'NUCLEI_TYPES', 'TISSUE_TYPES', 'generate_tile', 'generate_fold',
    'write_dataset', 'fold_paths', 'main'
]

# Release channel order of masks.npy (channel 5 is background).
NUCLEI_TYPES = ('Neoplastic', 'Inflammatory', 'Connective', 'Dead',
                'Epithelial')
NEO, INF, CON, DEAD, EPI = range(5)
# PanNuke's 19 tissues; CellViT's tissue ids are these indices (alphabetical).
TISSUE_TYPES = ('Adrenal_gland', 'Bile-duct', 'Bladder', 'Breast', 'Cervix',
                'Colon', 'Esophagus', 'HeadNeck', 'Kidney', 'Liver', 'Lung',
                'Ovarian', 'Pancreatic', 'Prostate', 'Skin', 'Stomach',
                'Testis', 'Thyroid', 'Uterus')
TILE_SIZE = 256
GENERATOR_VERSION = 1

# Per tissue: relative frequency of (Neo, Inf, Con, Dead, Epi) and how the
# epithelium is arranged ('gland': rings around lumina, 'sheet': clusters).
_TISSUE_PROFILES: Dict[str, Tuple[Tuple[float, ...], str]] = {
    'Adrenal_gland': ((0.55, 0.08, 0.20, 0.03, 0.14), 'sheet'),
    'Bile-duct': ((0.30, 0.15, 0.25, 0.03, 0.27), 'gland'),
    'Bladder': ((0.40, 0.20, 0.22, 0.03, 0.15), 'sheet'),
    'Breast': ((0.50, 0.18, 0.22, 0.03, 0.07), 'gland'),
    'Cervix': ((0.30, 0.22, 0.20, 0.03, 0.25), 'sheet'),
    'Colon': ((0.38, 0.18, 0.16, 0.03, 0.25), 'gland'),
    'Esophagus': ((0.28, 0.20, 0.22, 0.03, 0.27), 'sheet'),
    'HeadNeck': ((0.42, 0.20, 0.20, 0.03, 0.15), 'sheet'),
    'Kidney': ((0.45, 0.12, 0.18, 0.03, 0.22), 'gland'),
    'Liver': ((0.50, 0.12, 0.15, 0.05, 0.18), 'sheet'),
    'Lung': ((0.40, 0.25, 0.20, 0.05, 0.10), 'gland'),
    'Ovarian': ((0.45, 0.10, 0.35, 0.03, 0.07), 'sheet'),
    'Pancreatic': ((0.35, 0.12, 0.23, 0.03, 0.27), 'gland'),
    'Prostate': ((0.35, 0.10, 0.25, 0.02, 0.28), 'gland'),
    'Skin': ((0.30, 0.22, 0.25, 0.03, 0.20), 'sheet'),
    'Stomach': ((0.35, 0.22, 0.15, 0.03, 0.25), 'gland'),
    'Testis': ((0.50, 0.12, 0.25, 0.05, 0.08), 'sheet'),
    'Thyroid': ((0.45, 0.10, 0.15, 0.02, 0.28), 'gland'),
    'Uterus': ((0.30, 0.15, 0.45, 0.03, 0.07), 'sheet'),
}

# Optical-density vectors (R, G, B): Ruifrok & Johnston's haematoxylin; an
# eosin with more blue absorption than theirs, for a pinker, less magenta tone.
_HEMATOXYLIN = np.array([0.650, 0.704, 0.286])
_EOSIN = np.array([0.060, 0.990, 0.330])


def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                  sigma: float) -> np.ndarray:
    """Periodic Gaussian-smoothed white noise of ``shape`` (filtered in the
    Fourier domain, so wide kernels cost no more than narrow ones), scaled to
    zero mean and unit std."""
    noise = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    gain = np.exp(-2.0 * (np.pi * sigma)**2 * (fy**2 + fx**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * gain, s=shape)
    field -= field.mean()
    return field / (field.std() + 1e-12)


# ---------------------------------------------------------------- nuclei
class _Nucleus:
    """Geometry of one nucleus: centre ``(cy, cx)`` in pixels, semi-axes
    ``a >= b``, orientation ``angle`` (radians) and a radial perturbation
    ``1 + sum_k amp_k cos(k * phi + phase_k)`` of the elliptic outline."""

    __slots__ = ('cls', 'cy', 'cx', 'a', 'b', 'angle', 'amps', 'phases')

    def __init__(self, cls, cy, cx, a, b, angle, amps, phases):
        self.cls, self.cy, self.cx = cls, cy, cx
        self.a, self.b, self.angle = a, b, angle
        self.amps, self.phases = amps, phases


def _random_nucleus(rng: np.random.Generator,
                    cls: int,
                    cy: float,
                    cx: float,
                    angle: Optional[float] = None) -> _Nucleus:
    """Draw the size and outline of a nucleus of type ``cls``."""
    if cls == NEO:  # large and pleomorphic
        a = rng.uniform(9.0, 15.0)
        b, irregularity = a * rng.uniform(0.70, 0.95), 0.09
    elif cls == INF:  # small and round
        a = rng.uniform(4.5, 6.5)
        b, irregularity = a * rng.uniform(0.85, 1.0), 0.03
    elif cls == CON:  # spindle
        a = rng.uniform(11.0, 18.0)
        b, irregularity = rng.uniform(2.5, 4.0), 0.04
    elif cls == DEAD:  # shrunken, uneven
        a = rng.uniform(5.0, 8.0)
        b, irregularity = a * rng.uniform(0.70, 0.95), 0.10
    else:  # EPI: regular oval
        a = rng.uniform(7.5, 10.5)
        b, irregularity = a * rng.uniform(0.60, 0.78), 0.03
    if angle is None:
        angle = rng.uniform(0.0, np.pi)
    amps = irregularity * rng.standard_normal(3) / np.array([1.0, 1.5, 2.0])
    phases = rng.uniform(0.0, 2 * np.pi, 3)
    return _Nucleus(cls, cy, cx, a, b, angle, amps, phases)


def _rasterize(nuc: _Nucleus, size: int):
    """Rasterise a nucleus inside its bounding box, clipped to the tile.

    Returns:
        tuple | None: ``(sl, inside, coverage, rel)`` with ``sl`` the
        (row, col) slices of the box, ``inside`` (h, w) bool label mask,
        ``coverage`` (h, w) float in [0, 1], anti-aliased for the stain, and
        ``rel`` (h, w) float, radius relative to the outline (0 centre, 1 at
        the edge). None if the box misses the tile.
    """
    extent = nuc.a * (1.0 + np.abs(nuc.amps).sum()) + 2.0
    y0, y1 = int(np.floor(nuc.cy - extent)), int(np.ceil(nuc.cy + extent)) + 1
    x0, x1 = int(np.floor(nuc.cx - extent)), int(np.ceil(nuc.cx + extent)) + 1
    y0, x0, y1, x1 = max(y0, 0), max(x0, 0), min(y1, size), min(x1, size)
    if y0 >= y1 or x0 >= x1:
        return None
    dy = np.arange(y0, y1, dtype=np.float64)[:, None] - nuc.cy
    dx = np.arange(x0, x1, dtype=np.float64)[None, :] - nuc.cx
    cos, sin = np.cos(nuc.angle), np.sin(nuc.angle)
    u = dx * cos + dy * sin
    v = -dx * sin + dy * cos
    rho = np.sqrt((u / nuc.a)**2 + (v / nuc.b)**2)
    phi = np.arctan2(v, u)
    outline = 1.0
    for k, (amp, phase) in enumerate(zip(nuc.amps, nuc.phases), start=2):
        outline = outline + amp * np.cos(k * phi + phase)
    rel = rho / outline
    # Distance to the outline in pixels, measured along the minor axis scale.
    signed = (1.0 - rel) * nuc.b
    coverage = np.clip(signed + 0.5, 0.0, 1.0)
    return (slice(y0, y1), slice(x0, x1)), rel <= 1.0, coverage, rel


def _stain_nucleus(rng: np.random.Generator, nuc: _Nucleus, sl, coverage,
                   rel, hema: np.ndarray, textures: Dict[str, np.ndarray],
                   extra_eosin: np.ndarray) -> None:
    """Add the haematoxylin of one nucleus to ``hema`` (in place)."""
    fine, coarse = textures['fine'][sl], textures['coarse'][sl]
    if nuc.cls == NEO:
        density = rng.uniform(0.75, 1.05)
        # Vesicular chromatin: coarse clumps and a darker nuclear membrane.
        texture = 1.0 + 0.30 * coarse + 0.10 * fine
        texture += 0.55 * np.clip(rel - 0.70, 0.0, 0.3) / 0.3
        stain = density * np.clip(texture, 0.3, None) * coverage
        for _ in range(int(rng.integers(1, 3))):  # nucleoli
            r = rng.uniform(0.0, 0.45)
            t = rng.uniform(0.0, 2 * np.pi)
            ny = nuc.cy + r * nuc.b * np.sin(t)
            nx = nuc.cx + r * nuc.b * np.cos(t)
            yy = np.arange(sl[0].start, sl[0].stop)[:, None] - ny
            xx = np.arange(sl[1].start, sl[1].stop)[None, :] - nx
            radius = rng.uniform(1.2, 2.0)
            stain = stain + 0.9 * np.clip(
                radius + 0.5 - np.sqrt(yy**2 + xx**2), 0.0, 1.0) * coverage
    elif nuc.cls == INF:
        density = rng.uniform(1.45, 1.8)
        stain = density * (1.0 + 0.06 * fine) * coverage
    elif nuc.cls == CON:
        density = rng.uniform(1.05, 1.35)
        stain = density * (1.0 + 0.12 * fine) * coverage
    elif nuc.cls == DEAD:
        # Pale outline holding dark fragments, in an eosinophilic halo.
        stain = 0.25 * coverage
        yy = np.arange(sl[0].start, sl[0].stop)[:, None]
        xx = np.arange(sl[1].start, sl[1].stop)[None, :]
        for _ in range(int(rng.integers(2, 6))):
            r = rng.uniform(0.15, 0.7)
            t = rng.uniform(0.0, 2 * np.pi)
            fy = nuc.cy + r * nuc.b * np.sin(t)
            fx = nuc.cx + r * nuc.a * np.cos(t)
            radius = rng.uniform(1.3, 2.6)
            dist = np.sqrt((yy - fy)**2 + (xx - fx)**2)
            stain = stain + 2.0 * np.clip(radius + 0.5 - dist, 0.0, 1.0)
        stain = stain * (coverage > 0)
        extra_eosin[sl] += 0.45 * np.clip(1.9 - rel, 0.0, 1.0)
    else:  # EPI
        density = rng.uniform(0.85, 1.05)
        stain = density * (1.0 + 0.10 * fine + 0.05 * coarse) * coverage
    hema[sl] += stain


def _chain_positions(rng: np.random.Generator, n: int, centre, radius: float,
                     spacing: Tuple[float, float], size: int) -> List:
    """Grow a cluster of ``n`` touching positions from ``centre``: each new
    position sits next to an earlier one at ``radius * U(spacing)``."""
    points = [tuple(centre)]
    for _ in range(n - 1):
        py, px = points[int(rng.integers(len(points)))]
        t = rng.uniform(0.0, 2 * np.pi)
        d = radius * rng.uniform(*spacing)
        y, x = py + d * np.sin(t), px + d * np.cos(t)
        if -10 <= y < size + 10 and -10 <= x < size + 10:
            points.append((y, x))
    return points


def _plan_nuclei(rng: np.random.Generator, counts: Sequence[int],
                 layout: str, fibre_angle: float,
                 size: int) -> Tuple[List[_Nucleus], List[Tuple]]:
    """Place the nuclei of a tile.

    Returns:
        tuple: the nuclei (in painting order) and the glands as
        ``(cy, cx, lumen_radius)`` for the white lumina.
    """
    nuclei: List[_Nucleus] = []
    glands = []

    def uniform_point():
        return rng.uniform(0, size), rng.uniform(0, size)

    # Neoplastic sheets: 1-3 clusters of touching, partly overlapping nuclei.
    if counts[NEO]:
        n_clusters = int(rng.integers(1, 4))
        sizes = rng.multinomial(counts[NEO], np.full(n_clusters,
                                                     1 / n_clusters))
        for n in sizes:
            if n:
                for y, x in _chain_positions(rng, n, uniform_point(), 22.0,
                                             (0.75, 1.05), size):
                    nuclei.append(_random_nucleus(rng, NEO, y, x))
    # Epithelium: rings around lumina, or small regular sheets.
    n_epi = counts[EPI]
    while n_epi > 0:
        if layout == 'gland':
            cy, cx = uniform_point()
            radius = rng.uniform(24.0, 44.0)
            proto = _random_nucleus(rng, EPI, 0.0, 0.0)
            n_ring = max(6, int(2 * np.pi * radius / (2.05 * proto.b)))
            offset = rng.uniform(0.0, 2 * np.pi)
            placed = 0
            for k in range(n_ring):
                if placed == n_epi:
                    break
                t = offset + 2 * np.pi * k / n_ring
                y, x = cy + radius * np.sin(t), cx + radius * np.cos(t)
                if 0 <= y < size and 0 <= x < size:
                    # Columnar cells: the long axis points to the lumen.
                    nuclei.append(
                        _random_nucleus(rng, EPI, y, x, angle=t +
                                        rng.normal(0.0, 0.12)))
                    placed += 1
            glands.append((cy, cx, radius - 11.0))
            n_epi -= max(placed, 1)
        else:
            n = int(min(n_epi, rng.integers(4, 12)))
            for y, x in _chain_positions(rng, n, uniform_point(), 16.0,
                                         (0.85, 1.1), size):
                nuclei.append(_random_nucleus(rng, EPI, y, x))
            n_epi -= n
    # Connective spindles follow the fibres.
    for _ in range(counts[CON]):
        y, x = uniform_point()
        nuclei.append(
            _random_nucleus(
                rng, CON, y, x, angle=fibre_angle + rng.normal(0.0, 0.2)))
    # Inflammatory cells: half in clumps, half scattered.
    n_clumped = counts[INF] // 2
    if n_clumped:
        for y, x in _chain_positions(rng, n_clumped, uniform_point(), 11.0,
                                     (0.85, 1.2), size):
            nuclei.append(_random_nucleus(rng, INF, y, x))
    for _ in range(counts[INF] - n_clumped):
        nuclei.append(_random_nucleus(rng, INF, *uniform_point()))
    for _ in range(counts[DEAD]):
        nuclei.append(_random_nucleus(rng, DEAD, *uniform_point()))
    order = rng.permutation(len(nuclei))
    return [nuclei[i] for i in order], glands


# ---------------------------------------------------------------- tiles
def _background(rng: np.random.Generator, tissue_idx: int, glands,
                fibre_angle: float, size: int):
    """Eosin and haematoxylin concentration maps of the tissue without
    nuclei, each (size, size) float."""
    shape = (size, size)
    low = _smooth_noise(rng, shape, 20.0)
    mid = _smooth_noise(rng, shape, 5.0)
    # Wavy collagen fibres along ``fibre_angle``.
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    along = xx * np.sin(fibre_angle) - yy * np.cos(fibre_angle)
    warp = 6.0 * _smooth_noise(rng, shape, 14.0)
    period = rng.uniform(6.0, 10.0)
    fibres = (0.5 + 0.5 * np.sin(2 * np.pi * (along + warp) / period))**3
    fibres *= np.clip(0.35 + 0.6 * _smooth_noise(rng, shape, 16.0), 0.0, 1.0)
    base = 0.32 + 0.22 * ((tissue_idx * 7) % 19) / 18.0
    eosin = base * (1.0 + 0.22 * low + 0.08 * mid) + rng.uniform(
        0.05, 0.2) * fibres
    # White space: a smooth threshold of another low-frequency field + lumina.
    open_space = np.clip(
        (_smooth_noise(rng, shape, 24.0) - rng.uniform(1.0, 2.2)) * 2.0, 0.0,
        1.0)
    for cy, cx, radius in glands:
        dist = np.sqrt((yy - cy)**2 + (xx - cx)**2)
        open_space = np.maximum(open_space,
                                np.clip((radius - dist) / 3.0, 0.0, 1.0))
    eosin = np.clip(eosin, 0.05, None) * (1.0 - 0.9 * open_space)
    hema = (0.03 + 0.03 * ((tissue_idx * 5) % 19) / 18.0) * (1.0 + 0.3 * mid)
    hema = hema * (1.0 - 0.8 * open_space)
    return eosin, hema, open_space


def generate_tile(rng: np.random.Generator,
                  size: int = TILE_SIZE,
                  tissue: Optional[str] = None):
    """Generate one H&E-like tile.

    Args:
        rng (np.random.Generator): Source of all randomness of the tile.
        size (int): Tile side in pixels. Defaults to 256.
        tissue (str, optional): One of :data:`TISSUE_TYPES`; drawn from
            ``rng`` when None.

    Returns:
        tuple: ``(img, inst_map, type_map, tissue)`` with ``img`` (size, size,
        3) uint8 RGB, ``inst_map`` (size, size) int32 instance ids (0 =
        background, unique, not contiguous), ``type_map`` (size, size) uint8
        nucleus type 0 (background) or 1..5 in :data:`NUCLEI_TYPES` order, and
        the tissue name.
    """
    tissue_idx = (int(rng.integers(len(TISSUE_TYPES)))
                  if tissue is None else TISSUE_TYPES.index(tissue))
    tissue = TISSUE_TYPES[tissue_idx]
    weights, layout = _TISSUE_PROFILES[tissue]
    # About 4% of PanNuke tiles have no nucleus at all.
    n_nuclei = 0 if rng.random() < 0.04 else int(rng.integers(25, 85))
    mix = rng.dirichlet(np.asarray(weights) * 20.0)
    counts = rng.multinomial(n_nuclei, mix)
    fibre_angle = rng.uniform(0.0, np.pi)
    nuclei, glands = _plan_nuclei(rng, counts, layout, fibre_angle, size)
    eosin, hema, open_space = _background(rng, tissue_idx, glands,
                                          fibre_angle, size)
    textures = {
        'fine': _smooth_noise(rng, (size, size), 0.8),
        'coarse': _smooth_noise(rng, (size, size), 1.8)
    }

    inst_map = np.zeros((size, size), np.int32)
    type_map = np.zeros((size, size), np.uint8)
    nuc_hema = np.zeros((size, size))
    extra_eosin = np.zeros((size, size))
    cell_body = np.zeros((size, size), bool)  # nuclei with visible cytoplasm
    ids = rng.choice(
        np.arange(1, 3 * len(nuclei) + 2), size=len(nuclei), replace=False)
    next_id = 0
    for nuc in nuclei:
        raster = _rasterize(nuc, size)
        if raster is None:
            continue
        sl, inside, coverage, rel = raster
        # A nucleus below earlier ones only takes the free pixels; keep it if
        # most of it stays visible and in one piece.
        visible = inside & (inst_map[sl] == 0)
        n_visible = int(visible.sum())
        if n_visible < 12 or n_visible < 0.6 * inside.sum():
            continue
        if ndimage.label(visible)[1] != 1:
            continue
        inst_id = int(ids[next_id])
        next_id += 1
        inst_map[sl][visible] = inst_id
        type_map[sl][visible] = nuc.cls + 1
        _stain_nucleus(rng, nuc, sl, coverage, rel, nuc_hema, textures,
                       extra_eosin)
        if nuc.cls in (NEO, EPI):
            cell_body[sl] |= inside

    if cell_body.any():
        # Cytoplasm: a purplish-pink rim around neoplastic/epithelial nuclei.
        near = ndimage.distance_transform_edt(~cell_body) < 7.0
        rim = ndimage.gaussian_filter(near.astype(np.float64), 2.0)
        eosin = eosin + 0.18 * rim * (1.0 - open_space)
        hema = hema + 0.06 * rim
    eosin = eosin + extra_eosin
    hema = hema + nuc_hema

    # Per-tile stain variation, then Beer-Lambert to RGB.
    h_vec = _HEMATOXYLIN + rng.normal(0.0, 0.03, 3)
    e_vec = _EOSIN + rng.normal(0.0, 0.03, 3)
    h_vec, e_vec = (np.abs(v) / np.linalg.norm(v) for v in (h_vec, e_vec))
    h_vec = h_vec * rng.uniform(0.9, 1.1)
    e_vec = e_vec * rng.uniform(0.85, 1.15)
    optical_density = (hema[..., None] * h_vec + eosin[..., None] * e_vec)
    optical_density = ndimage.gaussian_filter(
        optical_density, sigma=(0.6, 0.6, 0.0))
    img = rng.uniform(236.0, 250.0) * np.exp(-optical_density)
    img += rng.normal(0.0, 2.0, img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return img, inst_map, type_map, tissue


def tile_rng(seed: int, fold: int, index: int) -> np.random.Generator:
    """The random generator of tile ``index`` of 0-based ``fold``."""
    return np.random.default_rng([seed, fold, index])


def generate_fold(fold: int, num: int, seed: int = 0,
                  size: int = TILE_SIZE) -> Tuple[np.ndarray, ...]:
    """Generate the arrays of one fold in the PanNuke release format.

    Args:
        fold (int): 0-based fold index.
        num (int): Number of tiles.
        seed (int): Dataset seed. Defaults to 0.
        size (int): Tile side. Defaults to 256.

    Returns:
        tuple: ``images`` (num, size, size, 3) float64 RGB 0..255, ``masks``
        (num, size, size, 6) float64 (channels 0..4 instance ids per type,
        channel 5 background indicator) and ``types`` (num,) unicode tissue
        names.
    """
    images = np.zeros((num, size, size, 3), np.float64)
    masks = np.zeros((num, size, size, 6), np.float64)
    types = []
    for i in range(num):
        img, inst_map, type_map, tissue = generate_tile(
            tile_rng(seed, fold, i), size)
        images[i] = img
        for c in range(len(NUCLEI_TYPES)):
            masks[i, ..., c] = np.where(type_map == c + 1, inst_map, 0)
        masks[i, ..., 5] = inst_map == 0
        types.append(tissue)
    width = max(map(len, TISSUE_TYPES))
    return images, masks, np.array(types, dtype=f'<U{width}')


def fold_paths(root: str, fold: int) -> Dict[str, str]:
    """Release paths of 0-based ``fold`` under ``root``: keys ``images``,
    ``types`` and ``masks``."""
    k = fold + 1
    return dict(
        images=osp.join(root, f'Fold {k}', 'images', f'fold{k}',
                        'images.npy'),
        types=osp.join(root, f'Fold {k}', 'images', f'fold{k}', 'types.npy'),
        masks=osp.join(root, f'Fold {k}', 'masks', f'fold{k}', 'masks.npy'))


def _save_atomic(path: str, array: np.ndarray) -> None:
    """``np.save`` through a temporary file, so readers never see a partial
    file."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = f'{path}.{os.getpid()}.tmp'
    try:
        with open(tmp, 'wb') as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_dataset(out: str,
                  num_per_fold: int = 32,
                  seed: int = 0,
                  num_folds: int = 3) -> Dict:
    """Write the demo dataset to ``out`` (overwriting earlier files).

    Returns:
        dict: The settings and per-fold statistics, also written to
        ``out/demo_info.json`` once every fold is complete.
    """
    if num_per_fold < 1 or num_folds < 1:
        raise ValueError(f'--num-per-fold and --num-folds must be >= 1, got '
                         f'{num_per_fold} and {num_folds}.')
    info_path = osp.join(out, 'demo_info.json')
    if osp.exists(info_path):  # an interrupted rewrite is never "complete"
        os.remove(info_path)
    stats = []
    for fold in range(num_folds):
        images, masks, types = generate_fold(fold, num_per_fold, seed)
        paths = fold_paths(out, fold)
        _save_atomic(paths['images'], images)
        _save_atomic(paths['types'], types)
        _save_atomic(paths['masks'], masks)
        per_type = [
            int(sum(len(np.unique(m[m > 0])) for m in masks[..., c]))
            for c in range(len(NUCLEI_TYPES))
        ]
        stats.append(dict(fold=fold, tiles=num_per_fold,
                          nuclei=dict(zip(NUCLEI_TYPES, per_type))))
    info = dict(
        generator='tools/misc/generate_demo_data.py',
        version=GENERATOR_VERSION,
        seed=seed,
        num_per_fold=num_per_fold,
        num_folds=num_folds,
        folds=stats)
    tmp = f'{info_path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    os.replace(tmp, info_path)
    return info


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic nuclei demo dataset (PanNuke '
        'release layout).')
    parser.add_argument(
        '--out', default='data/pannuke_demo', help='output folder')
    parser.add_argument(
        '--num-per-fold', type=int, default=32, help='tiles per fold')
    parser.add_argument(
        '--num-folds', type=int, default=3, help='number of folds')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    return parser.parse_args(argv)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    start = time.perf_counter()
    info = write_dataset(args.out, args.num_per_fold, args.seed,
                         args.num_folds)
    total = sum(sum(f['nuclei'].values()) for f in info['folds'])
    print(f'Wrote {args.num_folds} folds x {args.num_per_fold} tiles '
          f'({total} nuclei) to {args.out} in '
          f'{time.perf_counter() - start:.1f} s')
    return info


if __name__ == '__main__':
    main()
