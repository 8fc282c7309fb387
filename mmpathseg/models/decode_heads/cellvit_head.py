# Copyright (c) mmpathseg contributors. All rights reserved.
"""CellViT's U-Net style HoVer decoder: five skip connections, one
upsampling path per output branch (NP / HV / NC, chosen by config), and a
linear tissue classifier on the backbone's class token."""
import copy
import warnings
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import (ConfigType, OptConfigType,
                                          OptMultiConfig, SampleList)
from .cellvit_blocks import Conv2DBlock, Deconv2DBlock, HoVerBranchDecoder

# Targets a branch can learn (see ``CellViTHead.stack_targets``).
BRANCH_TARGETS = ('np', 'hv', 'nc')

# CellViT / CellVTA on PanNuke: NP + HV + NC (5 types + background) with the
# published loss weights.
CELLVIT_BRANCHES = dict(
    np=dict(
        out_channels=2,
        loss=[
            dict(type='FocalTverskyLoss', loss_weight=1.0),
            dict(type='HoVerDiceLoss', loss_weight=1.0),
        ]),
    hv=dict(
        out_channels=2,
        loss=[
            dict(type='HVMSELoss', loss_weight=2.5),
            dict(type='MSGELoss', loss_weight=8.0),
        ]),
    nc=dict(
        out_channels=6,
        loss=[
            dict(type='HoVerCrossEntropyLoss', loss_weight=0.5),
            dict(type='HoVerDiceLoss', loss_weight=0.2),
            dict(type='MCFocalTverskyLoss', loss_weight=0.5),
        ]),
)


def _loss_key(prefix: str, loss: nn.Module) -> str:
    """``loss_<prefix>_<name>`` for names starting with ``loss_`` (summed by
    mmengine), ``<prefix>_<name>`` otherwise (logged only)."""
    name = getattr(loss, 'loss_name', type(loss).__name__.lower())
    if name.startswith('loss_'):
        return f'loss_{prefix}_{name[5:]}'
    return f'{prefix}_{name}'


def _build_losses(cfg: Union[ConfigType, Sequence[ConfigType]],
                  prefix: str) -> nn.ModuleList:
    cfgs = [cfg] if isinstance(cfg, dict) else list(cfg or [])
    losses = nn.ModuleList(MODELS.build(c) for c in cfgs)
    keys = [_loss_key(prefix, loss) for loss in losses]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f'CellViTHead: the losses of "{prefix}" give duplicate keys '
            f'{keys}; give each one its own `loss_name`.')
    return losses


@MODELS.register_module()
class CellViTHead(BaseModule):
    """HoVer-style decoder of CellViT (``skip_mode='deconv'``) and CellVTA
    (``skip_mode='conv'``).

    Shared skip paths (one copy for all branches), ``D = in_channels``,
    ``b = bottleneck_channels``:

    - ``decoder0`` on the normalised image: Conv2DBlock(3->32),
      Conv2DBlock(32->64), full resolution.
    - ``'deconv'`` (plain ViT, all four features at 1/16): ``decoder1`` =
      Deconv2DBlocks D->s11->s12->128 (1/2), ``decoder2`` = D->s11->256 (1/4),
      ``decoder3`` = D->b (1/8); each branch upsamples the 4th feature with a
      bare 2x2 transposed convolution.
    - ``'conv'`` (CellVTA adapter pyramid at 1/2, 1/4, 1/8, 1/16):
      ``decoder1`` = Conv2DBlocks D->128->128, ``decoder2`` = D->256->256,
      ``decoder3`` = D->b->b; each branch upsamples the 4th feature with a
      Deconv2DBlock.

    Each branch then runs :class:`HoVerBranchDecoder`. Defaults follow the
    reference: ``b = 512, (s11, s12) = (512, 256)`` for ``D >= 512``, else
    ``312`` and ``(256, 128)``; the widths 64, 128, 256 at full, 1/2 and 1/4
    resolution (``decoder_channels``, the first stem conv has half of the
    first) only change for small demo/test models.

    **Shared skips and BatchNorm (reference quirk).** The published code
    recomputes the shared skip paths inside every branch, so in training
    their BatchNorm running statistics are updated once per branch (3 times a
    step, same batch statistics each time). Here the skips run once; with
    ``emulate_per_branch_skips=True`` (default) their BN momentum ``m``
    becomes ``1 - (1 - m) ** num_branches``, which gives the same running
    statistics (and so the same eval outputs) as the repeated updates.
    ``False`` keeps the plain momentum. Outputs and gradients are identical
    either way.

    Args:
        in_channels (int): ``D``, channels of the backbone features.
        skip_mode (str): ``'deconv'`` (CellViT) or ``'conv'`` (CellVTA).
            Defaults to ``'deconv'``.
        branches (dict, optional): Output branches by name, each a dict with
            ``out_channels`` (int), ``loss`` (a loss config or list of them)
            and ``target`` (``'np'``, ``'hv'`` or ``'nc'``; defaults to the
            branch name). Defaults to ``CELLVIT_BRANCHES`` (NP 2, HV 2, NC 6
            with CellViT's losses and weights).
        num_tissue_classes (int): Classes of the tissue classifier; 0 drops
            it. Defaults to 0.
        tissue_in_channels (int, optional): Channels of the class token;
            ``D`` when None (SAM encoders give the 256-channel neck mean).
        loss_tissue (dict, optional): Tissue loss on ``(B, T)`` logits and
            ``(B, )`` labels. Defaults to mmseg's ``CrossEntropyLoss`` (equal
            to torch's mean cross-entropy, CellViT's tissue loss) with weight
            0.1.
        bottleneck_channels (int, optional): ``b``; by ``D`` when None.
        deconv_skip_channels (Sequence[int], optional): ``(s11, s12)`` of the
            ``'deconv'`` skips; by ``D`` when None.
        decoder_channels (Sequence[int]): Widths at full, 1/2 and 1/4
            resolution. Defaults to ``(64, 128, 256)`` (reference).
        emulate_per_branch_skips (bool): See above. Defaults to True.
        drop_rate (float): Dropout in every block. Defaults to 0.
        norm_cfg (dict): Norm layers. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activations. Defaults to ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialisation; PyTorch defaults when
            None, as the reference.
    """

    SKIP_MODES = ('deconv', 'conv')

    def __init__(self,
                 in_channels: int,
                 skip_mode: str = 'deconv',
                 branches: OptConfigType = None,
                 num_tissue_classes: int = 0,
                 tissue_in_channels: Optional[int] = None,
                 loss_tissue: OptConfigType = dict(
                     type='CrossEntropyLoss',
                     loss_weight=0.1,
                     avg_non_ignore=True,
                     loss_name='loss_ce'),
                 bottleneck_channels: Optional[int] = None,
                 deconv_skip_channels: Optional[Sequence[int]] = None,
                 decoder_channels: Sequence[int] = (64, 128, 256),
                 emulate_per_branch_skips: bool = True,
                 drop_rate: float = 0.,
                 norm_cfg: ConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if skip_mode not in self.SKIP_MODES:
            raise ValueError(f'CellViTHead: skip_mode must be one of '
                             f'{self.SKIP_MODES} (CellViT: plain ViT features '
                             "at 1/16 -> 'deconv'; CellVTA adapter pyramid -> "
                             f"'conv'), got {skip_mode!r}.")
        self.in_channels = in_channels
        self.skip_mode = skip_mode
        wide = in_channels >= 512
        b = bottleneck_channels or (512 if wide else 312)
        s11, s12 = deconv_skip_channels or ((512, 256) if wide else
                                            (256, 128))
        if len(decoder_channels) != 3:
            raise ValueError('CellViTHead: decoder_channels must be (c0, c1, '
                             f'c2), got {tuple(decoder_channels)}.')
        c0, c1, c2 = (int(c) for c in decoder_channels)
        self.bottleneck_channels = b
        self.decoder_channels = (c0, c1, c2)
        cfg = dict(norm_cfg=norm_cfg, act_cfg=act_cfg, drop_rate=drop_rate)

        self.decoder0 = nn.Sequential(
            Conv2DBlock(3, c0 // 2, **cfg), Conv2DBlock(c0 // 2, c0, **cfg))
        if skip_mode == 'deconv':
            self.decoder1 = nn.Sequential(
                Deconv2DBlock(in_channels, s11, **cfg),
                Deconv2DBlock(s11, s12, **cfg),
                Deconv2DBlock(s12, c1, **cfg))
            self.decoder2 = nn.Sequential(
                Deconv2DBlock(in_channels, s11, **cfg),
                Deconv2DBlock(s11, c2, **cfg))
            self.decoder3 = nn.Sequential(
                Deconv2DBlock(in_channels, b, **cfg))
        else:
            self.decoder1 = nn.Sequential(
                Conv2DBlock(in_channels, c1, **cfg),
                Conv2DBlock(c1, c1, **cfg))
            self.decoder2 = nn.Sequential(
                Conv2DBlock(in_channels, c2, **cfg),
                Conv2DBlock(c2, c2, **cfg))
            self.decoder3 = nn.Sequential(
                Conv2DBlock(in_channels, b, **cfg), Conv2DBlock(b, b, **cfg))

        branches = copy.deepcopy(
            CELLVIT_BRANCHES if branches is None else dict(branches))
        if not branches:
            raise ValueError('CellViTHead: `branches` is empty; give at '
                             'least the NP and HV branches.')
        self.branch_targets: Dict[str, str] = {}
        self.branches = nn.ModuleDict()
        self.branch_losses = nn.ModuleDict()
        for name, spec in branches.items():
            spec = dict(spec)
            target = spec.pop('target', name)
            if target not in BRANCH_TARGETS:
                raise ValueError(
                    f'CellViTHead: branch "{name}" has target {target!r}; '
                    f'set `target` to one of {BRANCH_TARGETS} (NP = nucleus '
                    'pixels, HV = distance maps, NC = nucleus types).')
            if 'out_channels' not in spec:
                raise ValueError(f'CellViTHead: branch "{name}" needs '
                                 '`out_channels`.')
            out_channels = int(spec.pop('out_channels'))
            if target in ('np', 'hv') and out_channels != 2:
                raise ValueError(
                    f'CellViTHead: branch "{name}" ({target}) must have 2 '
                    f'output channels, got {out_channels}.')
            loss = spec.pop('loss', None)
            if spec:
                raise ValueError(f'CellViTHead: branch "{name}" has unknown '
                                 f'keys {sorted(spec)}; allowed are '
                                 '`out_channels`, `loss`, `target`.')
            self.branch_targets[name] = target
            self.branches[name] = HoVerBranchDecoder(
                in_channels,
                b,
                out_channels,
                bottleneck_block='convtranspose'
                if skip_mode == 'deconv' else 'deconv_block',
                decoder_channels=self.decoder_channels,
                **cfg)
            self.branch_losses[name] = _build_losses(loss, name)

        self.num_tissue_classes = num_tissue_classes
        self.tissue_head = None
        self.loss_tissue = None
        if num_tissue_classes > 0:
            self.tissue_head = nn.Linear(tissue_in_channels or in_channels,
                                         num_tissue_classes)
            if loss_tissue is not None:
                self.loss_tissue = _build_losses(loss_tissue, 'tissue')
        self._warned_no_cls = False

        if emulate_per_branch_skips and len(self.branches) > 1:
            for skip in (self.decoder0, self.decoder1, self.decoder2,
                         self.decoder3):
                for m in skip.modules():
                    if isinstance(m, _BatchNorm) and m.momentum is not None:
                        m.momentum = 1 - (1 - m.momentum)**len(self.branches)

    # ------------------------------------------------------------------ #
    @property
    def num_classes(self) -> Optional[int]:
        """Nucleus classes of the NC branch, background included (None
        without an NC branch)."""
        for name, target in self.branch_targets.items():
            if target == 'nc':
                return self.branches[name].decoder0_header[-1].out_channels
        return None

    def branch_for(self, target: str) -> Optional[str]:
        """Name of the (first) branch learning ``target``."""
        for name, t in self.branch_targets.items():
            if t == target:
                return name
        return None

    def _check_inputs(self, feats: Sequence[Tensor], image: Tensor) -> None:
        if len(feats) != 4:
            raise ValueError(f'CellViTHead expects 4 backbone features, got '
                             f'{len(feats)}.')
        height, width = image.shape[-2:]
        if self.skip_mode == 'deconv':
            strides = (16, 16, 16, 16)
        else:
            strides = (2, 4, 8, 16)
        for i, (feat, stride) in enumerate(zip(feats, strides)):
            expected = (height // stride, width // stride)
            if feat.shape[1] != self.in_channels or \
                    tuple(feat.shape[-2:]) != expected or \
                    height % 16 or width % 16:
                raise ValueError(
                    f'CellViTHead (skip_mode={self.skip_mode!r}): feature '
                    f'{i} has shape {tuple(feat.shape)}, expected (B, '
                    f'{self.in_channels}, {expected[0]}, {expected[1]}) for '
                    f'an input of {height}x{width} (sides must be multiples '
                    "of 16; 'deconv' takes four 1/16 maps, 'conv' a 1/2, "
                    '1/4, 1/8, 1/16 pyramid).')

    def forward(self,
                feats: Sequence[Tensor],
                image: Tensor,
                cls_token: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Decode the backbone features.

        Args:
            feats (Sequence[Tensor]): Four ``(B, D, h, w)`` maps: all at
                ``H/16`` (``'deconv'``) or at ``H/2, H/4, H/8, H/16``
                (``'conv'``).
            image (Tensor): ``(B, 3, H, W)`` normalised input image.
            cls_token (Tensor, optional): ``(B, tissue_in_channels)`` class
                token for the tissue classifier.

        Returns:
            dict[str, Tensor]: per branch name ``(B, k, H, W)`` raw outputs
            (NP/NC logits, HV regression without activation) and, with a
            tissue classifier and a class token, ``'tissue'`` ``(B, T)``
            logits.
        """
        self._check_inputs(feats, image)
        z1, z2, z3, z4 = feats
        skips = [
            self.decoder0(image),
            self.decoder1(z1),
            self.decoder2(z2),
            self.decoder3(z3)
        ]
        outputs = {
            name: branch(z4, skips)
            for name, branch in self.branches.items()
        }
        if self.tissue_head is not None:
            if cls_token is None:
                if not self._warned_no_cls:
                    warnings.warn('CellViTHead: num_tissue_classes > 0 but '
                                  'the backbone gives no class token; the '
                                  'tissue classifier and its loss are '
                                  'skipped.')
                    self._warned_no_cls = True
            else:
                outputs['tissue'] = self.tissue_head(cls_token)
        return outputs

    # ------------------------------------------------------------------ #
    def stack_targets(self,
                      data_samples: SampleList,
                      size: Sequence[int],
                      device: Optional[torch.device] = None
                      ) -> Dict[str, Tensor]:
        """Batch the targets of the branches from the data samples.

        - ``'np'``: ``gt_instance_map > 0`` (``gt_sem_seg > 0`` when a sample
          has no instance map), ``(B, H, W)`` int64 in {0, 1};
        - ``'hv'``: ``gt_hv_map``, ``(B, 2, H, W)`` float;
        - ``'nc'``: ``gt_sem_seg``, ``(B, H, W)`` int64;
        - ``'tissue'``: metainfo ``tissue_label``, ``(B, )`` int64 (only
          with a tissue classifier).

        Maps smaller than ``size`` (the padded batch) are padded at the
        bottom/right as background; the data preprocessor's 255 padding of
        ``gt_sem_seg`` also becomes background (0).
        """
        height, width = size
        wanted = set(self.branch_targets.values())

        def pad(t: Tensor) -> Tensor:
            dh, dw = height - t.shape[-2], width - t.shape[-1]
            if dh < 0 or dw < 0:
                raise ValueError(
                    f'CellViTHead: a target map of size {tuple(t.shape)} is '
                    f'larger than the input {height}x{width}.')
            return F.pad(t, (0, dw, 0, dh)) if dh or dw else t

        def semantic(sample) -> Tensor:
            if 'gt_sem_seg' not in sample:
                raise KeyError(
                    'CellViTHead: the NC branch needs `gt_sem_seg` (the type '
                    'map) in every data sample; pack it with '
                    'PackNucleiInputs.')
            sem = sample.gt_sem_seg.data[0].long()
            return pad(torch.where(sem == 255, torch.zeros_like(sem), sem))

        targets = {}
        if wanted & {'np', 'hv'}:
            fg = []
            for sample in data_samples:
                if 'gt_instance_map' in sample:
                    fg.append(pad(sample.gt_instance_map.data[0] > 0).long())
                else:
                    fg.append((semantic(sample) > 0).long())
            targets['np'] = torch.stack(fg)
        if 'hv' in wanted:
            hv = []
            for sample in data_samples:
                if 'gt_hv_map' not in sample:
                    raise KeyError(
                        'CellViTHead: the HV branch needs `gt_hv_map` in '
                        'every data sample; add GenerateHVMap to the '
                        'training pipeline.')
                hv.append(pad(sample.gt_hv_map.data.float()))
            targets['hv'] = torch.stack(hv)
        if 'nc' in wanted:
            targets['nc'] = torch.stack(
                [semantic(sample) for sample in data_samples])
        if self.tissue_head is not None and self.loss_tissue:
            labels = []
            for sample in data_samples:
                label = sample.metainfo.get('tissue_label')
                if label is None:
                    raise KeyError(
                        'CellViTHead: the tissue classifier needs '
                        '`tissue_label` in the metainfo of every sample '
                        '(PackNucleiInputs meta_keys); set '
                        'num_tissue_classes=0 for data without tissues.')
                labels.append(int(label))
            targets['tissue'] = torch.tensor(labels, dtype=torch.long)
        return {k: v.to(device) for k, v in targets.items()}

    def loss_by_feat(self, outputs: Dict[str, Tensor],
                     targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Weighted losses of every branch.

        Args:
            outputs (dict[str, Tensor]): :meth:`forward` outputs.
            targets (dict[str, Tensor]): :meth:`stack_targets` outputs.

        Returns:
            dict[str, Tensor]: ``loss_<branch>_<name>`` scalars, e.g.
            ``loss_np_ft``, ``loss_hv_msge``, ``loss_tissue_ce``.
        """
        losses = {}
        fg = targets.get('np')
        for name, branch_losses in self.branch_losses.items():
            target = targets[self.branch_targets[name]]
            for loss in branch_losses:
                kwargs = dict(fg_mask=fg) if getattr(
                    loss, 'uses_fg_mask', False) else {}
                losses[_loss_key(name, loss)] = loss(outputs[name], target,
                                                     **kwargs)
        if 'tissue' in outputs and 'tissue' in targets:
            for loss in self.loss_tissue:
                losses[_loss_key('tissue', loss)] = loss(
                    outputs['tissue'], targets['tissue'])
        return losses

    def loss(self, feats: Sequence[Tensor], image: Tensor,
             cls_token: Optional[Tensor],
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Forward and compute the losses (see :meth:`loss_by_feat`)."""
        outputs = self.forward(feats, image, cls_token)
        targets = self.stack_targets(data_samples, image.shape[-2:],
                                     image.device)
        return self.loss_by_feat(outputs, targets)

    def extra_repr(self) -> str:
        branches = ', '.join(f'{n}->{t}'
                             for n, t in self.branch_targets.items())
        return (f'skip_mode={self.skip_mode!r}, in_channels='
                f'{self.in_channels}, branches=[{branches}], '
                f'num_tissue_classes={self.num_tissue_classes}')


__all__ = ['CellViTHead', 'CELLVIT_BRANCHES', 'BRANCH_TARGETS']
