# Copyright (c) mmpathseg contributors. All rights reserved.
"""Tiled inference of large images: nuclei crossing tile seams come out
once and whole, tiles are streamed (no read larger than a tile), outputs
can be memory-mapped, and the semantic path is seam-free."""
import numpy as np
import pytest
import torch

from mmpathseg.apis import (get_task_adapter, infer_large_image, init_model,
                            open_image)
from mmpathseg.exports import check_geojson

TILE, OVERLAP = 512, 64


@pytest.fixture(scope='module')
def seam_case(fx):
    image, inst_map, types = fx.seam_image(3072, 2560, TILE, OVERLAP)
    return image, inst_map, types


@pytest.fixture(scope='module')
def merged(fx, seam_case, tmp_path_factory):
    image, _, _ = seam_case
    reader = fx.CountingReader(image)
    work_dir = tmp_path_factory.mktemp('work')
    result = infer_large_image(
        fx.fake_cell_model(),
        reader,
        tile_size=TILE,
        overlap=OVERLAP,
        batch_size=4,
        work_dir=str(work_dir),
        progress=False)
    return result, reader, work_dir


def test_seam_nuclei_come_out_once(fx, seam_case, merged):
    image, gt, types = seam_case
    result, _, _ = merged
    stride = TILE - OVERLAP
    # The case really has nuclei cut by the inner tile edges.
    seams = [k * stride + TILE for k in range(5)] + \
        [(k + 1) * stride for k in range(5)]
    crossing = {int(i) for s in seams
                for i in np.r_[np.unique(gt[:, s]), np.unique(gt[s, :])]}
    crossing -= {0}
    assert len(crossing) >= 12
    matched, missed, extra = fx.match_instances(gt, result['inst_map'],
                                                iou=0.9)
    assert (missed, extra) == (0, 0)
    assert matched == len(types) == len(result['instances']['ids'])
    # Each seam nucleus is one predicted instance covering all of it.
    pred = np.asarray(result['inst_map'])
    for gid in crossing:
        ids = np.unique(pred[gt == gid])
        assert len(ids) == 1 and ids[0] > 0, gid
    assert result['num_tiles'] == 7 * 6


def test_types_contours_and_exports_of_the_large_result(
        fx, seam_case, merged, tmp_path):
    _, gt, types = seam_case
    result, _, _ = merged
    inst = result['instances']
    pred = np.asarray(result['inst_map'])
    fg = pred > 0
    gt_of = np.zeros(int(pred.max()) + 1, np.int64)
    gt_of[pred[fg]] = gt[fg]  # one gt nucleus per prediction (tested above)
    for k, inst_id in enumerate(inst['ids']):
        gid = gt_of[inst_id]
        assert inst['labels'][k] == types[gid - 1]
        x, y = inst['centroids'][k]
        assert gt[int(round(y)), int(round(x))] == gid
        assert len(inst['contours'][k]) >= 4
    model = fx.fake_cell_model()
    files = get_task_adapter(model).export(
        result, str(tmp_path), 'slide', ('geojson', 'summary', 'coco'))
    import json
    files = {f.rsplit('/', 1)[1]: f for f in files}
    collection = json.load(open(files['slide.geojson']))
    assert check_geojson(collection) == []
    assert len(collection['features']) == len(types)
    summary = json.load(open(files['slide_summary.json']))
    assert summary['counts'] == {
        'dark': int((types == 1).sum()),
        'blue': int((types == 2).sum())
    }
    from pycocotools.coco import COCO
    coco = COCO(files['slide_coco.json'])
    assert len(coco.getAnnIds()) == len(types)
    ann = coco.loadAnns(coco.getAnnIds())[0]
    np.testing.assert_array_equal(coco.annToMask(ann).astype(bool),
                                  pred == ann['instance_id'])


def test_tiles_are_streamed_into_a_memmap(merged):
    result, reader, work_dir = merged
    assert reader.max_area == TILE * TILE  # never more than one tile
    assert reader.reads == result['num_tiles']
    assert isinstance(result['inst_map'], np.memmap)
    assert (work_dir / 'inst_map.npy').is_file()
    assert (work_dir / 'type_map.npy').is_file()


def test_image_smaller_than_a_tile(fx):
    image, gt, types = fx.seam_image(200, 300, 512, 64, spacing=60)
    result = infer_large_image(
        fx.fake_cell_model(), image, tile_size=256, overlap=32,
        progress=False)
    assert result['inst_map'].shape == (200, 300)
    matched, missed, extra = fx.match_instances(gt, result['inst_map'])
    assert (matched, missed, extra) == (len(types), 0, 0)


def test_semantic_tiles_equal_whole_image(fx):
    """With a per-pixel stand-in network the tiled class map must equal the
    whole-image one exactly (cores cover the image without gaps)."""
    model = init_model(fx.UNET_CONFIG)

    def per_pixel(inputs, metas):
        # class = brightness bucket of the red channel, as one-hot logits
        bucket = ((inputs[:, 0] + 1) * 2.999).long().clamp(0, 5)
        return torch.nn.functional.one_hot(bucket, 6).permute(0, 3, 1,
                                                               2).float()

    model.encode_decode = per_pixel
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (700, 900, 3), dtype=np.uint8)
    result = infer_large_image(
        model, image, tile_size=256, overlap=64, progress=False)
    expected = ((image[..., 0] / 127.5 - 1 + 1) * 2.999).astype(int)
    np.testing.assert_array_equal(result['sem_seg'], np.clip(expected, 0, 5))


def test_semantic_demo_unet_on_a_large_image(fx):
    model = init_model(fx.UNET_CONFIG)
    image = np.full((600, 520, 3), 200, np.uint8)
    result = infer_large_image(
        model, image, tile_size=256, overlap=32, progress=False)
    assert result['sem_seg'].shape == (600, 520)
    assert result['task'] == 'semantic'


def test_readers(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (300, 400, 3),
                                              dtype=np.uint8)
    np.save(tmp_path / 'a.npy', image)
    reader = open_image(str(tmp_path / 'a.npy'))
    assert reader.shape == (300, 400)
    np.testing.assert_array_equal(reader.read(10, 20, 50, 60),
                                  image[10:60, 20:80])
    tifffile = pytest.importorskip('tifffile')
    tifffile.imwrite(tmp_path / 'a.tif', image)
    reader = open_image(str(tmp_path / 'a.tif'))
    np.testing.assert_array_equal(reader.read(250, 380, 100, 100),
                                  image[250:, 380:])
    (tmp_path / 'slide.svs').write_bytes(b'not a slide')
    try:
        import openslide  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match='pip install openslide'):
            open_image(str(tmp_path / 'slide.svs'))
    with pytest.raises(FileNotFoundError, match='missing.tif'):
        open_image(str(tmp_path / 'missing.tif'))


def test_thumbnail_and_scaled_drawing(fx, seam_case, merged):
    from mmpathseg.apis.large_image import thumbnail
    image, _, _ = seam_case
    thumb, scale = thumbnail(fx.CountingReader(image), max_side=640,
                             strip=500)
    assert thumb.shape == (640, 533, 3) and scale == 640 / 3072
    # Strips resized on their own equal the whole image resized.
    import cv2
    whole = cv2.resize(image, (533, 640), interpolation=cv2.INTER_AREA)
    assert np.abs(thumb.astype(int) - whole).mean() < 2
    result, _, _ = merged
    adapter = get_task_adapter(fx.fake_cell_model())
    small = adapter.scale_result(result, scale, thumb.shape[:2])
    picture = adapter.draw(thumb, small, alpha=0)
    assert picture.shape == thumb.shape
    # Contours drawn in the type colours (red / blue) of the palette.
    drawn = (picture != thumb).any(-1)
    assert drawn.sum() > len(result['instances']['ids']) * 4
