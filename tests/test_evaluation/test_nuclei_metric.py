# Copyright (c) mmpathseg contributors. All rights reserved.
"""NucleiInstanceMetric: process/compute with fake data samples, --out
files, ranks, and ground truth scored against itself on NuCLS tiles."""
import json
import math
import os
import pickle
import re
import socket

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmpathseg.evaluation import NucleiInstanceMetric
from mmpathseg.evaluation.metrics import nuclei_metric
from mmpathseg.registry import METRICS

META = dict(
    classes=('background', 'A', 'B'),
    tissue_types=('Y', 'X'))


def _square(m, t, r, c, inst_id, cls, size=4):
    m[r:r + size, c:c + size] = inst_id
    t[r:r + size, c:c + size] = cls


def image_one():
    """One A and one B nucleus, predicted exactly (PQ 1)."""
    gt = np.zeros((20, 20), np.int32)
    gt_t = np.zeros_like(gt)
    _square(gt, gt_t, 0, 0, 3, 1)
    _square(gt, gt_t, 10, 10, 8, 2)
    return gt, gt_t, gt * 5, gt_t.copy()


def image_two():
    """Three A nuclei, none predicted; two B predicted, none in the GT
    (image mPQ 0, bPQ 0)."""
    gt = np.zeros((20, 20), np.int32)
    gt_t = np.zeros_like(gt)
    pred = np.zeros_like(gt)
    pred_t = np.zeros_like(gt)
    for k, (r, c) in enumerate([(0, 0), (0, 10), (10, 0)]):
        _square(gt, gt_t, r, c, k + 1, 1)
    _square(pred, pred_t, 15, 15, 1, 2, size=3)
    _square(pred, pred_t, 10, 15, 2, 2, size=3)
    return gt, gt_t, pred, pred_t


def make_sample(maps, name, tissue=None, with_gt=True, **meta):
    gt, gt_t, pred, pred_t = (torch.from_numpy(np.asarray(m)) for m in maps)
    metainfo = dict(img_path=f'/data/{name}.png', **meta)
    if tissue is not None:
        metainfo['tissue'] = tissue
    sample = SegDataSample(metainfo=metainfo)
    sample.pred_sem_seg = PixelData(data=pred_t[None])
    sample.pred_instance_map = PixelData(data=pred[None])
    if with_gt:
        sample.gt_sem_seg = PixelData(data=gt_t[None])
        sample.gt_instance_map = PixelData(data=gt[None])
    # the evaluator hands metrics dicts, not data elements
    return sample.to_dict()


def three_samples():
    return [
        make_sample(image_one(), 'one', 'X'),
        make_sample(image_two(), 'two', 'X'),
        make_sample(image_one(), 'three', 'Y'),
    ]


def evaluate(metric, samples, meta=META, size=None):
    metric.dataset_meta = dict(meta)
    metric.process({}, samples)
    return metric.evaluate(len(samples) if size is None else size)


def test_built_from_the_registry():
    metric = METRICS.build(
        dict(type='NucleiInstanceMetric', aggregation='dataset'))
    assert isinstance(metric, NucleiInstanceMetric)
    assert metric.aggregations == ['dataset']


@pytest.mark.parametrize('kwargs, match', [
    (dict(aggregation='pooled'), 'aggregation='),
    (dict(aggregation=[]), 'aggregation='),
    (dict(match_iou=-0.1), 'match_iou'),
    (dict(detection_radius=0), 'detection_radius'),
    (dict(count_crop=-224), 'count_crop'),
    (dict(format_only=True), 'needs `output_dir`'),
])
def test_bad_config_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NucleiInstanceMetric(**kwargs)


def test_conventions_from_data_samples(monkeypatch):
    """Images one (tissue X), two (X), one (Y): see the aggregation tests.
    image: mPQ = 2/3; tissue: (0.5 + 1) / 2 = 0.75; dataset: A pooled TP 2,
    FN 3 -> DQ 2 / 3.5, PQ 4/7; B TP 2, FP 2 -> DQ 2 / 3; mPQ = (4/7 + 2/3)
    / 2."""
    logged = []
    monkeypatch.setattr(nuclei_metric, 'print_log',
                        lambda msg, *a, **k: logged.append(str(msg)))
    metric = NucleiInstanceMetric(
        aggregation=['image', 'tissue', 'dataset'], detection_radius=12)
    out = evaluate(metric, three_samples())
    assert out['mPQ'] == pytest.approx(2 / 3)
    assert out['mPQ@tissue'] == pytest.approx(0.75)
    assert out['mPQ.X@tissue'] == pytest.approx(0.5)
    assert out['PQ.A@dataset'] == pytest.approx(4 / 7)
    assert out['mPQ@dataset'] == pytest.approx((4 / 7 + 2 / 3) / 2)
    assert 'R2@dataset' in out and 'R2' not in out
    assert 'F1_det' in out and 'F1_det@dataset' not in out
    assert metric.results == []  # cleared by evaluate
    text = '\n'.join(logged)
    assert 'aggregation: image | tissue | dataset' in text
    for agg in ('image', 'tissue', 'dataset'):
        assert f'Per class, aggregation: {agg}' in text
    assert 'PanNuke official' in text and 'CoNIC mPQ+' in text
    assert re.search(r'\|\s+A\s+\|', text)  # class names from the metainfo
    assert 'Detection, centroids paired within 12 px' in text


def test_results_are_small_and_picklable():
    metric = NucleiInstanceMetric(detection_radius=6)
    metric.dataset_meta = META
    metric.process({}, three_samples())
    blob = pickle.dumps(metric.results)
    assert len(blob) < 4000  # a few hundred bytes per image, no maps
    assert pickle.loads(blob)[1]['name'] == 'two'


def test_accepts_data_elements_as_well_as_dicts():
    samples = three_samples()
    elements = []
    for d in samples:
        e = SegDataSample(metainfo=dict(img_path=d['img_path'],
                                        tissue=d['tissue']))
        for key in ('gt_sem_seg', 'gt_instance_map', 'pred_sem_seg',
                    'pred_instance_map'):
            setattr(e, key, PixelData(**d[key]))
        elements.append(e)
    ref = evaluate(NucleiInstanceMetric(aggregation='tissue'), samples)
    out = evaluate(NucleiInstanceMetric(aggregation='tissue'), elements)
    assert out == ref


def test_tissue_needs_tissue_metainfo():
    metric = NucleiInstanceMetric(aggregation='tissue')
    samples = [make_sample(image_one(), 'one', 'X'),
               make_sample(image_one(), 'untagged')]
    with pytest.raises(ValueError, match="'untagged' has none"):
        evaluate(metric, samples)


def test_missing_prediction_is_reported():
    sample = make_sample(image_one(), 'one')
    del sample['pred_instance_map']
    metric = NucleiInstanceMetric()
    metric.dataset_meta = META
    with pytest.raises(KeyError, match="'one' has no `pred_instance_map`"):
        metric.process({}, [sample])


def test_bad_type_value_names_the_sample():
    gt, gt_t, pred, pred_t = image_one()
    metric = NucleiInstanceMetric()
    metric.dataset_meta = META
    with pytest.raises(ValueError, match="sample 'one'.*class 5"):
        metric.process({}, [make_sample((gt, gt_t * 0 + 5 * (gt > 0), pred,
                                         pred_t), 'one')])


def test_class_names_override_and_class_agnostic():
    metric = NucleiInstanceMetric(class_names=['A', 'B'])
    out = evaluate(metric, three_samples(), meta={})
    assert 'PQ.B' in out
    gt, _, pred, _ = image_one()
    sample = make_sample((gt, gt * 0, pred, pred * 0), 'bin')
    out = evaluate(NucleiInstanceMetric(class_names=[]), [sample], meta={})
    assert out['bPQ'] == 1.0 and 'mPQ' not in out
    with pytest.raises(ValueError, match='class_names'):
        evaluate(NucleiInstanceMetric(), [sample], meta={})


def test_out_writes_stats_json_and_predictions(tmp_path):
    """What tools/test.py --out sets: output_dir and keep_results=True."""
    metric = NucleiInstanceMetric(
        aggregation='tissue', output_dir=str(tmp_path), keep_results=True)
    samples = three_samples()
    samples.append(
        make_sample(image_one(), 'images', 'Y', img_index=7, fold=2))
    out = evaluate(metric, samples)
    stats = json.loads((tmp_path / 'nuclei_instance_stats.json').read_text())
    assert stats['classes'] == ['A', 'B']
    assert stats['metrics']['tissue']['mPQ'] == pytest.approx(out['mPQ'])
    names = [img['name'] for img in stats['images']]
    assert names == ['one', 'two', 'three', 'fold2_images_7']
    two = stats['images'][1]
    assert two['tissue'] == 'X'
    assert two['scores']['bPQ'] == 0.0
    assert two['stats']['fn'] == [3, 3, 0]
    with np.load(tmp_path / 'one.npz', allow_pickle=False) as z:
        np.testing.assert_array_equal(z['inst_map'], image_one()[2])
        np.testing.assert_array_equal(z['type_map'], image_one()[3])
    assert (tmp_path / 'fold2_images_7.npz').exists()


def test_nan_is_written_as_null(tmp_path):
    empty = np.zeros((8, 8), np.int32)
    metric = NucleiInstanceMetric(output_dir=str(tmp_path))
    out = evaluate(metric, [make_sample((empty, ) * 4, 'empty')])
    assert math.isnan(out['bPQ'])
    stats = json.loads((tmp_path / 'nuclei_instance_stats.json').read_text())
    assert stats['images'][0]['scores']['bPQ'] is None
    assert not list(tmp_path.glob('*.npz'))  # keep_results off


def test_format_only_needs_no_ground_truth(tmp_path):
    metric = NucleiInstanceMetric(output_dir=str(tmp_path), format_only=True)
    sample = make_sample(image_one(), 'one', with_gt=False)
    assert evaluate(metric, [sample]) == {}
    assert (tmp_path / 'one.npz').exists()


# --------------------------------------------------------------------------
# Two ranks (gloo): the gathered result equals the single-process one.
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _rank_worker(rank, world_size, port, out_dir):
    import torch.distributed as dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        samples = three_samples() + [make_sample(image_two(), 'four', 'Y')]
        # DefaultSampler without shuffling: rank r takes r, r + W, ...
        mine = samples[rank::world_size]
        metric = NucleiInstanceMetric(aggregation=['tissue', 'dataset'])
        out = evaluate(metric, mine, size=len(samples))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(out, f)
    finally:
        dist.destroy_process_group()


def test_two_ranks_gather_every_image(tmp_path):
    torch.multiprocessing.start_processes(
        _rank_worker,
        args=(2, _free_port(), str(tmp_path)),
        nprocs=2,
        start_method='spawn')
    rank0 = json.loads((tmp_path / 'rank0.json').read_text())
    single = evaluate(
        NucleiInstanceMetric(aggregation=['tissue', 'dataset']),
        three_samples() + [make_sample(image_two(), 'four', 'Y')])
    assert rank0.keys() == single.keys()
    for key, value in single.items():
        assert rank0[key] == pytest.approx(value, nan_ok=True), key


# --------------------------------------------------------------------------
def _nucls_labels(shared_fixtures):
    labels = sorted((shared_fixtures / 'nucls' / 'labels').glob('*.npz'))
    if not labels:
        pytest.skip(f'no NuCLS label files under {shared_fixtures}/nucls/'
                    'labels (see shared/fixtures/README.md)')
    out = []
    for path in labels:
        with np.load(path, allow_pickle=False) as z:
            out.append((path.stem, z['inst_map'], z['type_map']))
    return out


def test_nucls_ground_truth_against_itself_scores_one(shared_fixtures):
    """Real tiles: GT vs GT (ids permuted to sparse values for the
    prediction) gives PQ = DQ = SQ = AJI = AJI+ = Dice = 1 under every
    convention, and F1_det = 1."""
    rng = np.random.default_rng(0)
    samples = []
    for name, inst, types in _nucls_labels(shared_fixtures):
        ids = np.unique(inst)
        lut = np.zeros(ids.max() + 1, np.int64)
        lut[ids[1:]] = rng.choice(10**7, len(ids) - 1, replace=False) + 1
        samples.append(
            make_sample((inst, types, lut[inst], types), name, 'Breast'))
    metric = NucleiInstanceMetric(
        aggregation=['image', 'tissue', 'dataset'], detection_radius=12)
    out = evaluate(
        metric, samples,
        meta=dict(classes=('background', 'Non-Tumor', 'Tumor')))
    for key in ('bPQ', 'bDQ', 'bSQ', 'mPQ', 'PQ.Tumor', 'PQ.Non-Tumor',
                'Dice', 'Jaccard', 'AJI', 'AJI+', 'Dice2'):
        for suffix in ('', '@tissue', '@dataset'):
            assert out[key + suffix] == pytest.approx(1.0), key + suffix
    for key in ('F1_det', 'F1_det.Tumor', 'TypeAcc_det'):
        assert out[key] == pytest.approx(1.0), key
    assert out['R2@dataset'] == pytest.approx(1.0)
