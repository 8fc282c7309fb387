# Copyright (c) mmpathseg contributors. All rights reserved.
"""Nuclei as GeoJSON (RFC 7946) that QuPath imports as detections.

Every nucleus is a ``Feature`` with a ``Polygon`` geometry (its contour, in
pixel coordinates of the image, ``x`` right and ``y`` down) and QuPath's
properties: ``objectType`` ``'detection'`` and ``classification`` ``{name,
color}`` (``color`` an ``[r, g, b]`` list), plus the type score and area as
``measurements``. QuPath: *File > Import objects from file*.
"""
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .io import write_json_atomic


def polygon_ring(contour: np.ndarray,
                 offset: Tuple[float, float] = (0., 0.)
                 ) -> Optional[List[List[float]]]:
    """A closed, counter-clockwise GeoJSON linear ring of a contour.

    Args:
        contour (np.ndarray): ``(K, 2)`` ``(x, y)`` points (OpenCV order).
        offset (tuple[float, float]): ``(x, y)`` added to every point.

    Returns:
        list | None: ``[[x, y], ..., [x0, y0]]`` with >= 4 positions, or None
        for a contour with fewer than 3 distinct points or zero area.
    """
    pts = np.asarray(contour, dtype=np.float64).reshape(-1, 2)
    if len(pts) > 1 and np.array_equal(pts[0], pts[-1]):
        pts = pts[:-1]
    if len(np.unique(pts, axis=0)) < 3:
        return None
    x, y = pts[:, 0], pts[:, 1]
    area2 = np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)
    if area2 == 0:
        return None
    if area2 < 0:  # make the shoelace area positive (counter-clockwise)
        pts = pts[::-1]
    pts = pts + np.asarray(offset, dtype=np.float64)
    ring = pts.tolist()
    ring.append(ring[0])
    return ring


def instances_to_geojson(contours: Sequence[np.ndarray],
                         labels: Sequence[int],
                         class_names: Sequence[str],
                         class_colors: Sequence[Sequence[int]],
                         scores: Optional[Sequence[float]] = None,
                         areas: Optional[Sequence[int]] = None,
                         ids: Optional[Sequence[int]] = None,
                         offset: Tuple[float, float] = (0., 0.)) -> Dict:
    """A GeoJSON ``FeatureCollection`` of nuclei.

    Args:
        contours (Sequence[np.ndarray]): ``(K, 2)`` ``(x, y)`` contour per
            nucleus.
        labels (Sequence[int]): Type index per nucleus (into
            ``class_names``).
        class_names (Sequence[str]): Name per type index.
        class_colors (Sequence[Sequence[int]]): RGB per type index.
        scores (Sequence[float], optional): Type score per nucleus.
        areas (Sequence[int], optional): Pixel area per nucleus.
        ids (Sequence[int], optional): Instance id per nucleus (kept as the
            feature's ``properties.instance_id``).
        offset (tuple[float, float]): ``(x, y)`` of the image in a larger
            frame (e.g. a region's position in the slide).

    Returns:
        dict: The feature collection; nuclei with degenerate contours (< 3
        points) are left out.
    """
    features = []
    for k, contour in enumerate(contours):
        ring = polygon_ring(contour, offset)
        if ring is None:
            continue
        label = int(labels[k])
        if not 0 <= label < len(class_names):
            raise ValueError(f'instances_to_geojson: label {label} of '
                             f'nucleus {k} is not in 0..'
                             f'{len(class_names) - 1} ({list(class_names)}).')
        properties = dict(
            objectType='detection',
            classification=dict(
                name=str(class_names[label]),
                color=[int(c) for c in class_colors[label]]))
        measurements = {}
        if scores is not None:
            measurements['type_score'] = float(scores[k])
        if areas is not None:
            measurements['area_px'] = float(areas[k])
        if measurements:
            properties['measurements'] = measurements
        if ids is not None:
            properties['instance_id'] = int(ids[k])
        features.append(
            dict(
                type='Feature',
                geometry=dict(type='Polygon', coordinates=[ring]),
                properties=properties))
    return dict(type='FeatureCollection', features=features)


def write_geojson(collection: Dict, path: Union[str, os.PathLike]) -> str:
    """Check ``collection`` with :func:`check_geojson` and write it
    atomically."""
    errors = check_geojson(collection)
    if errors:
        raise ValueError(f'write_geojson: not valid GeoJSON for {path}: '
                         f'{errors[:5]}')
    return write_json_atomic(collection, path)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and np.isfinite(value)


def _check_ring(ring, where: str, errors: List[str]) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        errors.append(f'{where}: a linear ring needs >= 4 positions')
        return
    for j, pos in enumerate(ring):
        if not (isinstance(pos, list) and len(pos) >= 2
                and all(_is_number(v) for v in pos)):
            errors.append(f'{where}[{j}]: a position is [x, y] numbers, '
                          f'got {pos!r}')
            return
    if ring[0] != ring[-1]:
        errors.append(f'{where}: first and last positions differ (ring not '
                      'closed)')


def check_geojson(obj) -> List[str]:
    """Structural checks of RFC 7946 for a ``FeatureCollection`` of
    ``Polygon`` / ``MultiPolygon`` features (sections 3.1.6, 3.2, 3.3) and
    of QuPath's ``classification``.

    Returns:
        list[str]: The problems found; empty when valid.
    """
    errors: List[str] = []
    if not isinstance(obj, dict) or obj.get('type') != 'FeatureCollection':
        return ['root: "type" must be "FeatureCollection"']
    features = obj.get('features')
    if not isinstance(features, list):
        return ['root: "features" must be an array']
    for i, feat in enumerate(features):
        where = f'features[{i}]'
        if not isinstance(feat, dict) or feat.get('type') != 'Feature':
            errors.append(f'{where}: "type" must be "Feature"')
            continue
        if 'properties' not in feat or not (
                feat['properties'] is None
                or isinstance(feat['properties'], dict)):
            errors.append(f'{where}: "properties" must be an object or null')
        geom = feat.get('geometry', 'missing')
        if geom == 'missing':
            errors.append(f'{where}: "geometry" is required')
            continue
        if geom is None:
            continue
        gtype = geom.get('type') if isinstance(geom, dict) else None
        coords = geom.get('coordinates') if isinstance(geom, dict) else None
        if gtype == 'Polygon':
            polygons = [coords]
        elif gtype == 'MultiPolygon' and isinstance(coords, list):
            polygons = coords
        else:
            errors.append(f'{where}.geometry: unsupported type {gtype!r}')
            continue
        for p, rings in enumerate(polygons):
            if not isinstance(rings, list) or not rings:
                errors.append(f'{where}.geometry: a polygon needs >= 1 ring')
                continue
            for r, ring in enumerate(rings):
                _check_ring(ring, f'{where}.geometry.coordinates'
                            f'[{p}][{r}]', errors)
        cls = (feat.get('properties') or {}).get('classification')
        if cls is not None:
            color = cls.get('color') if isinstance(cls, dict) else None
            if not (isinstance(cls, dict) and isinstance(cls.get('name'), str)
                    and isinstance(color, list) and len(color) == 3
                    and all(isinstance(c, int) and 0 <= c <= 255
                            for c in color)):
                errors.append(f'{where}.properties.classification: must be '
                              '{"name": str, "color": [r, g, b] in 0..255}')
    return errors
