# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellViTHead: shapes of both skip modes, branches by config, the tissue
classifier, full-size parameter counts against the reference, and the
per-branch BatchNorm emulation."""
import copy

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmpathseg.models.decode_heads import CellViTHead
from mmpathseg.models.decode_heads.cellvit_head import CELLVIT_BRANCHES

init_default_scope('mmpathseg')


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    """On a shared 2-core machine, 2 intra-op threads make these tiny
    convolutions many times slower than 1 (spin-waiting under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _feats(skip_mode, dims=32, size=32, batch=2):
    if skip_mode == 'deconv':
        sizes = [size // 16] * 4
    else:
        sizes = [size // 2, size // 4, size // 8, size // 16]
    return [torch.randn(batch, dims, s, s) for s in sizes]


def _small_head(skip_mode, **kwargs):
    # Narrow widths keep the test fast (full size: see the count test).
    cfg = dict(
        in_channels=32,
        skip_mode=skip_mode,
        bottleneck_channels=32,
        deconv_skip_channels=(32, 16),
        decoder_channels=(8, 16, 32))
    cfg.update(kwargs)
    return CellViTHead(**cfg)


@pytest.mark.parametrize('skip_mode', ['deconv', 'conv'])
def test_shapes_both_skip_modes(skip_mode):
    head = _small_head(skip_mode, num_tissue_classes=3)
    image = torch.randn(2, 3, 32, 32)
    out = head(_feats(skip_mode), image, torch.randn(2, 32))
    assert set(out) == {'np', 'hv', 'nc', 'tissue'}
    assert out['np'].shape == (2, 2, 32, 32)
    assert out['hv'].shape == (2, 2, 32, 32)
    assert out['nc'].shape == (2, 6, 32, 32)
    assert out['tissue'].shape == (2, 3)
    assert head.num_classes == 6
    assert head.branch_for('hv') == 'hv'


def test_wrong_features_raise_readable_errors():
    head = _small_head('conv')
    image = torch.randn(1, 3, 32, 32)
    with pytest.raises(ValueError, match="skip_mode='conv'"):
        head(_feats('deconv', batch=1), image)
    with pytest.raises(ValueError, match='4 backbone features'):
        head(_feats('conv', batch=1)[:3], image)
    with pytest.raises(ValueError, match='skip_mode'):
        CellViTHead(in_channels=32, skip_mode='unet')


def test_tissue_head_dropped():
    head = _small_head('deconv', num_tissue_classes=0)
    assert head.tissue_head is None
    out = head(_feats('deconv'), torch.randn(2, 3, 32, 32),
               torch.randn(2, 32))
    assert 'tissue' not in out
    # A class token of another width (SAM: 256-channel neck mean).
    head = _small_head('deconv', num_tissue_classes=4, tissue_in_channels=8)
    with pytest.warns(UserWarning, match='no class token'):
        out = head(_feats('deconv'), torch.randn(2, 3, 32, 32), None)
    assert 'tissue' not in out
    out = head(_feats('deconv'), torch.randn(2, 3, 32, 32),
               torch.randn(2, 8))
    assert out['tissue'].shape == (2, 4)


def test_branches_by_config():
    branches = dict(
        binary=dict(
            out_channels=2,
            target='np',
            loss=dict(type='HoVerDiceLoss', loss_name='loss_dice')),
        hv=dict(out_channels=2, loss=[dict(type='MSGELoss')]))
    head = _small_head('conv', branches=branches)
    out = head(_feats('conv'), torch.randn(2, 3, 32, 32))
    assert set(out) == {'binary', 'hv'}
    assert head.num_classes is None
    with pytest.raises(ValueError, match='target'):
        _small_head('conv', branches=dict(x=dict(out_channels=2)))
    with pytest.raises(ValueError, match='2 output channels'):
        _small_head('conv', branches=dict(hv=dict(out_channels=3)))
    with pytest.raises(ValueError, match='unknown keys'):
        _small_head(
            'conv', branches=dict(np=dict(out_channels=2, kernel=3)))
    with pytest.raises(ValueError, match='duplicate keys'):
        _small_head(
            'conv',
            branches=dict(
                np=dict(
                    out_channels=2,
                    loss=[dict(type='HoVerDiceLoss'),
                          dict(type='HoVerDiceLoss')])))


def _sample(size=32, tissue=1):
    inst = torch.zeros(1, size, size, dtype=torch.long)
    inst[0, 4:10, 4:10] = 1
    inst[0, 16:28, 14:24] = 2
    sem = (inst > 0).long() * 3
    hv = torch.zeros(2, size, size)
    hv[:, inst[0] > 0] = 0.5
    sample = SegDataSample(metainfo=dict(tissue_label=tissue))
    sample.gt_sem_seg = PixelData(data=sem)
    sample.gt_instance_map = PixelData(data=inst)
    sample.gt_hv_map = PixelData(data=hv)
    return sample


def test_loss_keys_targets_and_gradients():
    head = _small_head('conv', num_tissue_classes=3)
    feats = [f.requires_grad_() for f in _feats('conv')]
    samples = [_sample(tissue=0), _sample(tissue=2)]
    losses = head.loss(feats, torch.randn(2, 3, 32, 32), torch.randn(2, 32),
                       samples)
    assert set(losses) == {
        'loss_np_ft', 'loss_np_dice', 'loss_hv_mse', 'loss_hv_msge',
        'loss_nc_ce', 'loss_nc_dice', 'loss_nc_ft', 'loss_tissue_ce'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert all(f.grad is not None for f in feats)

    targets = head.stack_targets(samples, (40, 32))  # padded batch
    assert targets['np'].shape == (2, 40, 32)
    assert targets['np'].sum() == 2 * (36 + 120)
    assert targets['hv'].shape == (2, 2, 40, 32)
    assert targets['nc'].max() == 3
    assert targets['tissue'].tolist() == [0, 2]
    # The data preprocessor pads gt_sem_seg with 255: background here.
    samples[0].gt_sem_seg.data[0, -1] = 255
    assert head.stack_targets(samples, (32, 32))['nc'].max() == 3

    no_tissue = SegDataSample()
    no_tissue.gt_sem_seg = samples[0].gt_sem_seg
    no_tissue.gt_instance_map = samples[0].gt_instance_map
    no_tissue.gt_hv_map = samples[0].gt_hv_map
    with pytest.raises(KeyError, match='tissue_label'):
        head.stack_targets([no_tissue], (32, 32))
    del no_tissue.gt_hv_map
    with pytest.raises(KeyError, match='GenerateHVMap'):
        _small_head('conv').stack_targets([no_tissue], (32, 32))


def _count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    'in_channels, skip_mode, nc, tissue, tissue_in, expected', [
        # CellVTA-UNI (research digest §1.6): decoders 62,121,674 (PanNuke,
        # NC 6) / 62,121,739 (CoNIC, NC 7) plus the tissue Linear(1024, 19).
        (1024, 'conv', 6, 19, None, 62_121_674 + 19_475),
        (1024, 'conv', 7, 0, None, 62_121_739),
        # CellViT-SAM (§2.2): trainable = decoder + Linear(256, 19).
        (1280, 'deconv', 6, 19, 256, 62_715_101),
        (1024, 'deconv', 6, 19, 256, 59_569_373),
        (768, 'deconv', 6, 19, 256, 56_423_645),
    ])
def test_full_size_parameter_counts(in_channels, skip_mode, nc, tissue,
                                    tissue_in, expected):
    branches = copy.deepcopy(CELLVIT_BRANCHES)
    branches['nc']['out_channels'] = nc
    with torch.device('meta'):
        head = CellViTHead(
            in_channels=in_channels,
            skip_mode=skip_mode,
            branches=branches,
            num_tissue_classes=tissue,
            tissue_in_channels=tissue_in)
    assert _count(head) == expected
    if skip_mode == 'conv':
        shared = sum(
            _count(getattr(head, f'decoder{i}')) for i in range(4))
        assert shared == 11_379_072
    elif in_channels == 1280:
        shared = sum(
            _count(getattr(head, f'decoder{i}')) for i in range(4))
        assert shared == 17_477_248


def test_per_branch_bn_emulation_matches_repeated_updates():
    """The reference runs the shared skips once per branch (3 BN updates per
    step); one run with the raised momentum gives the same statistics."""
    torch.manual_seed(0)
    plain = _small_head('conv', emulate_per_branch_skips=False)
    emulated = _small_head('conv')
    emulated.load_state_dict(plain.state_dict())
    bn_plain = plain.decoder2[0].block[1]
    bn_emulated = emulated.decoder2[0].block[1]
    assert bn_plain.momentum == pytest.approx(0.1)
    assert bn_emulated.momentum == pytest.approx(1 - 0.9**3)
    # Branch BNs keep the plain momentum.
    assert emulated.branches['np'].decoder0_header[0].block[1].momentum == \
        pytest.approx(0.1)
    plain.train()
    emulated.train()
    for _ in range(2):  # two training steps
        feat = torch.randn(2, 32, 16, 16) * 3 + 1
        for _ in range(3):  # reference: once per branch
            plain.decoder2(feat)
        emulated.decoder2(feat)
    torch.testing.assert_close(bn_emulated.running_mean,
                               bn_plain.running_mean)
    torch.testing.assert_close(bn_emulated.running_var, bn_plain.running_var)
