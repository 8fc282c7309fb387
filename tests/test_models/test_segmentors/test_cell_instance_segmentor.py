# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellInstanceSegmentor on a tiny stand-in backbone and synthetic nuclei:
losses, whole and sliding-window prediction, training metrics, and a few
optimisation steps that lower the loss."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmpathseg.datasets.transforms.nuclei_targets import instance_hv_map
from mmpathseg.registry import MODELS

init_default_scope('mmpathseg')


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    """On a shared 2-core machine, 2 intra-op threads make these tiny
    convolutions 5-50x slower than 1 (spin-waiting under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@MODELS.register_module(name='_TinyNucleiBackbone', force=True)
class TinyNucleiBackbone(nn.Module):
    """Honours the backbone interface of the nuclei segmentor: ``(feats,
    cls_token)`` with four ``(B, D, H/16, W/16)`` maps (``pyramid=False``,
    plain ViT) or a 1/2, 1/4, 1/8, 1/16 pyramid (``pyramid=True``, CellVTA
    adapter), and a ``(B, D)`` class token or None."""

    def __init__(self, embed_dims=16, pyramid=False, with_cls=True):
        super().__init__()
        self.embed_dims = embed_dims
        self.pyramid = pyramid
        self.with_cls = with_cls
        self.stem = nn.Conv2d(3, embed_dims, 3, padding=1)
        self.mix = nn.ModuleList(
            nn.Conv2d(embed_dims, embed_dims, 1) for _ in range(4))

    def forward(self, x):
        f = torch.relu(self.stem(x))
        strides = (2, 4, 8, 16) if self.pyramid else (16, 16, 16, 16)
        feats = [m(F.avg_pool2d(f, s)) for m, s in zip(self.mix, strides)]
        cls = f.mean(dim=(2, 3)) if self.with_cls else None
        return feats, cls


def _model_cfg(pyramid=True, tissue=3, test_cfg=None, train_cfg=None,
               with_cls=True):
    return dict(
        type='CellInstanceSegmentor',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[127.5] * 3,
            std=[127.5] * 3,
            bgr_to_rgb=True,
            size_divisor=16),
        backbone=dict(
            type='_TinyNucleiBackbone',
            embed_dims=16,
            pyramid=pyramid,
            with_cls=with_cls),
        decode_head=dict(
            type='CellViTHead',
            in_channels=16,
            skip_mode='conv' if pyramid else 'deconv',
            bottleneck_channels=16,
            deconv_skip_channels=(16, 16),
            decoder_channels=(8, 16, 16),
            num_tissue_classes=tissue),
        postprocessor=dict(type='HoVerNetPostProcessor', magnification=20),
        train_cfg=train_cfg,
        test_cfg=test_cfg)


def _nuclei_image(size=32, seed=0, tissue=1):
    """A BGR uint8 image with dark disk nuclei and its packed targets."""
    rng = np.random.default_rng(seed)
    inst = np.zeros((size, size), np.int64)
    yy, xx = np.mgrid[:size, :size]
    # Radius ~5.5 px: smaller nuclei do not survive the watershed's 5x5
    # marker opening.
    centres = [(9, 9), (9, 23), (23, 14)]
    for k, (cy, cx) in enumerate(centres, start=1):
        cy = cy * size // 32 + int(rng.integers(-1, 2))
        cx = cx * size // 32
        inst[(yy - cy)**2 + (xx - cx)**2 <= 30] = k
    types = np.zeros_like(inst)
    for k in range(1, len(centres) + 1):
        types[inst == k] = 1 + (k % 5)
    img = np.full((size, size, 3), 220, np.uint8)
    img[inst > 0] = (150, 60, 120)
    img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
    sample = SegDataSample(
        metainfo=dict(
            ori_shape=(size, size),
            img_shape=(size, size),
            tissue_label=tissue))
    sample.gt_sem_seg = PixelData(data=torch.from_numpy(types)[None])
    sample.gt_instance_map = PixelData(data=torch.from_numpy(inst)[None])
    sample.gt_hv_map = PixelData(data=torch.from_numpy(instance_hv_map(inst)))
    return torch.from_numpy(img).permute(2, 0, 1).contiguous(), sample


def _batch(num=2, size=32):
    pairs = [_nuclei_image(size, seed=i, tissue=i % 3) for i in range(num)]
    return dict(
        inputs=[p[0] for p in pairs], data_samples=[p[1] for p in pairs])


@pytest.mark.parametrize('pyramid', [True, False])
def test_loss_keys_and_pixel_metrics(pyramid):
    model = MODELS.build(_model_cfg(pyramid=pyramid))
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    loss_keys = {k for k in losses if 'loss' in k}
    assert loss_keys == {
        'loss_np_ft', 'loss_np_dice', 'loss_hv_mse', 'loss_hv_msge',
        'loss_nc_ce', 'loss_nc_dice', 'loss_nc_ft', 'loss_tissue_ce'
    }
    assert {'np_dice', 'np_jaccard', 'tissue_acc'} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    total, log_vars = model.parse_losses(losses)
    assert 'np_dice' in log_vars and total.requires_grad


def test_training_metrics_with_post_processing():
    model = MODELS.build(
        _model_cfg(
            tissue=0,
            train_cfg=dict(log_pixel_metrics=False,
                           log_instance_metrics=True)))
    data = model.data_preprocessor(_batch(), training=True)
    losses = model(**data, mode='loss')
    assert 'loss_tissue_ce' not in losses and 'np_dice' not in losses
    # An untrained model may find nothing: bPQ is then 0, still logged.
    assert 'bPQ' in losses and 0 <= losses['bPQ'].item() <= 1
    with pytest.raises(ValueError, match='unknown train_cfg'):
        MODELS.build(_model_cfg(train_cfg=dict(log_metrics=True)))


def _check_prediction(sample, shape, num_classes=6):
    assert sample.pred_instance_map.data.shape == (1, ) + shape
    assert sample.pred_sem_seg.data.shape == (1, ) + shape
    inst = sample.pred_instance_map.data[0]
    types = sample.pred_sem_seg.data[0]
    assert ((inst > 0) == (types > 0)).all()
    assert types.max() < num_classes
    pred = sample.pred_instances
    ids = set(torch.unique(inst[inst > 0]).tolist())
    assert ids == set(pred.ids.tolist())
    assert len(pred.labels) == len(pred.ids) == len(pred.centroids)


@pytest.fixture(scope='module')
def trained(_one_thread):
    """A model trained for a few steps on the synthetic nuclei, so that the
    post-processing finds instances."""
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(pyramid=True))
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    data = _batch(2, 32)
    for _ in range(15):
        model.train_step(data, optim)
    model.eval()
    return model


def test_training_lowers_the_loss():
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(pyramid=False, tissue=3))
    optim = OptimWrapper(
        torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.85, 0.95)))
    data = _batch(2, 32)
    first = model.train_step(data, optim)['loss'].item()
    for _ in range(12):
        last = model.train_step(data, optim)['loss'].item()
    assert last < 0.7 * first, (first, last)


def test_predict_whole(trained):
    model = trained
    model.test_cfg.return_maps = True
    try:
        data = model.data_preprocessor(_batch(2, 32), training=False)
        with torch.no_grad():
            out = model(**data, mode='predict')
    finally:
        model.test_cfg.return_maps = False
    for sample in out:
        _check_prediction(sample, (32, 32))
        assert sample.pred_np_prob.data.shape == (2, 32, 32)
        assert sample.pred_nc_prob.data.shape == (6, 32, 32)
        assert sample.pred_hv_map.data.shape == (2, 32, 32)
        assert sample.pred_tissue_scores.shape == (3, )
        assert 0 <= int(sample.pred_tissue_label) < 3
    # After a few steps on these easy nuclei something is found.
    assert any(s.pred_instances.ids.numel() > 0 for s in out)
    # Without data samples, and the raw tensors of mode='tensor'.
    with torch.no_grad():
        bare = model.predict(data['inputs'])
        raw = model(data['inputs'], mode='tensor')
    _check_prediction(bare[0], (32, 32))
    assert raw['np'].shape == (2, 2, 32, 32) and raw['tissue'].shape == (2,
                                                                          3)


@pytest.mark.parametrize('merge', ['instances', 'maps'])
def test_predict_slide_on_image_larger_than_crop(trained, merge):
    model = trained
    saved = dict(model.test_cfg)
    model.test_cfg.update(
        mode='slide', crop_size=(32, 32), stride=(16, 16), tile_merge=merge,
        tile_batch=3)
    try:
        image, sample = _nuclei_image(48, seed=3)
        data = model.data_preprocessor(
            dict(inputs=[image], data_samples=[sample]), training=False)
        with torch.no_grad():
            out = model(**data, mode='predict')
        # Slide on the same image equals whole-image inference where it is
        # one crop large.
        small, small_sample = _nuclei_image(32, seed=3)
        data_small = model.data_preprocessor(
            dict(inputs=[small], data_samples=[small_sample]),
            training=False)
        with torch.no_grad():
            slide_small = model(**data_small, mode='predict')[0]
        model.test_cfg.mode = 'whole'
        with torch.no_grad():
            whole_small = model(**data_small, mode='predict')[0]
    finally:
        model.test_cfg.clear()
        model.test_cfg.update(saved)
    _check_prediction(out[0], (48, 48))
    assert out[0].pred_tissue_scores.shape == (3, )
    if merge == 'maps':
        assert torch.equal(slide_small.pred_instance_map.data,
                           whole_small.pred_instance_map.data)
    else:
        # Same instances, ids renumbered by the tile merger.
        a = slide_small.pred_instance_map.data[0] > 0
        b = whole_small.pred_instance_map.data[0] > 0
        assert torch.equal(a, b)


def test_predict_rescaled_and_padded(trained):
    """CellVTA's CoNIC protocol: upsample by 1.875, slide 32-px crops with
    stride 28 (the 256/224 grid at 1/8 scale), merge, and come back to
    ``ori_shape``; padding of the preprocessor is removed first."""
    model = trained
    saved = dict(model.test_cfg)
    model.test_cfg.update(
        mode='slide', crop_size=(32, 32), stride=(28, 28), scale_factor=1.875)
    try:
        image, sample = _nuclei_image(32, seed=5)
        with torch.no_grad():
            out = model(
                torch.stack([image.float()]) / 127.5 - 1, [sample],
                mode='predict')
        _check_prediction(out[0], (32, 32))
        # Padding at the bottom/right (size_divisor) is cut off.
        model.test_cfg.update(mode='whole', scale_factor=None)
        padded = F.pad(image.float()[None] / 127.5 - 1, (0, 8, 0, 8))
        sample.set_metainfo(dict(padding_size=[0, 8, 0, 8]))
        with torch.no_grad():
            out = model(padded, [sample], mode='predict')
        _check_prediction(out[0], (32, 32))
    finally:
        model.test_cfg.clear()
        model.test_cfg.update(saved)


def test_config_errors():
    with pytest.raises(ValueError, match='crop_size'):
        MODELS.build(_model_cfg(test_cfg=dict(mode='slide')))
    with pytest.raises(ValueError, match='multiples of 16'):
        MODELS.build(
            _model_cfg(
                test_cfg=dict(mode='slide', crop_size=40, stride=20)))
    with pytest.raises(ValueError, match="'whole', 'slide'"):
        MODELS.build(_model_cfg(test_cfg=dict(mode='tiles')))
    cfg = _model_cfg()
    cfg['decode_head']['branches'] = dict(
        np=dict(out_channels=2, loss=dict(type='HoVerDiceLoss')))
    with pytest.raises(ValueError, match="target 'hv'"):
        MODELS.build(cfg)


def test_no_class_token_skips_tissue():
    model = MODELS.build(_model_cfg(with_cls=False, tissue=3))
    data = model.data_preprocessor(_batch(), training=True)
    with pytest.warns(UserWarning, match='no class token'):
        losses = model(**data, mode='loss')
    assert 'loss_tissue_ce' not in losses
