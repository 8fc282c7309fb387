# Copyright (c) mmpathseg contributors. All rights reserved.
"""GeoJSON export: RFC 7946 structure (checked by our own validator, no
jsonschema package here) and QuPath's classification."""
import json

import numpy as np
import pytest

from mmpathseg.exports import (check_geojson, instances_to_geojson,
                               polygon_ring, write_geojson)

SQUARE_CW = np.array([[0, 0], [0, 4], [4, 4], [4, 0]])  # clockwise in x-y


def _area2(ring):
    pts = np.asarray(ring[:-1], dtype=float)
    x, y = pts[:, 0], pts[:, 1]
    return np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)


def test_ring_is_closed_and_counter_clockwise():
    ring = polygon_ring(SQUARE_CW, offset=(10, 20))
    assert ring[0] == ring[-1] and len(ring) == 5
    assert _area2(ring) > 0
    assert ring[0] == [10.0, 20.0] or [10.0, 20.0] in ring
    assert polygon_ring(np.array([[0, 0], [1, 1], [0, 0]])) is None
    assert polygon_ring(np.array([[0, 0], [1, 1], [2, 2]])) is None  # flat


def test_feature_collection_for_qupath(tmp_path):
    contours = [SQUARE_CW, SQUARE_CW + 10, np.array([[0, 0], [1, 0]])]
    fc = instances_to_geojson(
        contours, [1, 2, 1], ['background', 'Neoplastic', 'Inflammatory'],
        [(0, 0, 0), (255, 0, 0), (34, 221, 77)],
        scores=[0.9, 0.8, 0.7],
        areas=[16, 16, 2],
        ids=[3, 5, 7])
    assert check_geojson(fc) == []
    assert [f['properties']['instance_id'] for f in fc['features']] == [3, 5]
    feat = fc['features'][1]
    assert feat['geometry']['type'] == 'Polygon'
    assert feat['properties']['objectType'] == 'detection'
    assert feat['properties']['classification'] == dict(
        name='Inflammatory', color=[34, 221, 77])
    assert feat['properties']['measurements'] == dict(
        type_score=pytest.approx(0.8), area_px=16.0)
    path = write_geojson(fc, tmp_path / 'a.geojson')
    assert json.load(open(path)) == json.loads(json.dumps(fc))
    with pytest.raises(ValueError, match='label 9'):
        instances_to_geojson([SQUARE_CW], [9], ['a'], [(0, 0, 0)])


@pytest.mark.parametrize('breakage,message', [
    (lambda fc: fc.update(type='Feature'), 'FeatureCollection'),
    (lambda fc: fc['features'][0]['geometry']['coordinates'][0].pop(),
     'not closed'),
    (lambda fc: fc['features'][0]['geometry'].update(
        coordinates=[[[0, 0], [1, 0], [0, 0]]]), '>= 4 positions'),
    (lambda fc: fc['features'][0]['geometry'].update(type='Circle'),
     'unsupported'),
    (lambda fc: fc['features'][0]['geometry']['coordinates'][0][1].__setitem__(
        0, 'x'), 'position'),
    (lambda fc: fc['features'][0]['properties']['classification'].update(
        color='red'), 'classification'),
    (lambda fc: fc['features'][0].pop('geometry'), 'required'),
])
def test_validator_catches_errors(breakage, message, tmp_path):
    fc = instances_to_geojson([SQUARE_CW], [1], ['bg', 'a'],
                              [(0, 0, 0), (1, 2, 3)])
    breakage(fc)
    errors = check_geojson(fc)
    assert errors and message in ' '.join(errors)
    with pytest.raises(ValueError, match='not valid GeoJSON'):
        write_geojson(fc, tmp_path / 'bad.geojson')
    assert not list(tmp_path.iterdir())
