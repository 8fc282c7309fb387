# Copyright (c) mmpathseg contributors. All rights reserved.
"""Segmentor of nuclei instance models (HoVer-Net style heads: CellViT,
CellVTA): trains the NP/HV/NC branches and turns their maps into instances
with a post-processor at test time."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.structures import SegDataSample
from torch import Tensor

from mmpathseg.postprocessing import HoVerNetPostProcessor, InstanceTileMerger
from mmpathseg.registry import MODELS, TASK_UTILS
from mmpathseg.utils.typing_utils import (ConfigType, OptConfigType,
                                          OptMultiConfig, OptSampleList,
                                          SampleList)
from .tiled_inference import (check_slide_size, slide_instances, slide_maps,
                              whole_maps)

TRAIN_CFG_DEFAULTS = dict(log_pixel_metrics=True, log_instance_metrics=False)
TEST_CFG_DEFAULTS = dict(
    mode='whole',
    crop_size=None,
    stride=None,
    tile_merge='instances',
    dup_thresh=0.5,
    tile_batch=8,
    scale_factor=None,
    size_divisor=16,
    return_maps=False)
TEST_MODES = ('whole', 'slide')
MERGE_MODES = ('instances', 'maps')


def _pair(value, name: str) -> Tuple[int, int]:
    if value is None:
        raise ValueError(f"CellInstanceSegmentor: test_cfg.mode='slide' needs "
                         f'`{name}` (an int or (h, w)).')
    if isinstance(value, int):
        return value, value
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f'CellInstanceSegmentor: test_cfg.{name} must be an '
                         f'int or (h, w), got {value}.')
    return value


@MODELS.register_module()
class CellInstanceSegmentor(BaseSegmentor):
    """Backbone -> (neck) -> HoVer-style head -> post-processor.

    The backbone maps ``(B, 3, H, W)`` normalised images to ``(feats,
    cls_token)``: four feature maps and a ``(B, C)`` class token or None. The
    head (:class:`~mmpathseg.models.decode_heads.CellViTHead`) decodes them
    with the image as the fifth skip and owns the losses; it builds the
    targets from the data samples (NP = ``gt_instance_map > 0``, HV =
    ``gt_hv_map``, NC = ``gt_sem_seg``, tissue = metainfo ``tissue_label``).

    ``predict`` post-processes the maps (``postprocessor``, a ``TASK_UTILS``
    config, by default HoVer-Net's watershed with CellViT's 40x preset; use
    ``magnification=20`` for native 20x data) and fills every data sample
    with ``pred_instance_map`` (``(1, H, W)`` int64 ids), ``pred_sem_seg``
    (``(1, H, W)`` type of the instance at each pixel), ``pred_instances``
    (``InstanceData``: ids, labels, scores, areas, centroids, bboxes,
    contours), with a tissue classifier ``pred_tissue_scores`` (``(T, )``
    softmax) and ``pred_tissue_label``, and with ``return_maps``
    ``pred_np_prob`` / ``pred_nc_prob`` (softmax) and ``pred_hv_map``. All
    at the sample's ``ori_shape``.

    ``train_cfg`` (all optional):

    - ``log_pixel_metrics`` (bool): log ``np_dice``, ``np_jaccard`` (binary
      NP argmax vs target, mean over images) and ``tissue_acc`` every
      iteration; cheap. Defaults to True.
    - ``log_instance_metrics`` (bool): also run the post-processor on every
      training batch and log ``bPQ``/``mPQ`` (image means). CellViT/CellVTA
      do this every batch and it dominates their training time; defaults to
      False.

    ``test_cfg`` (all optional):

    - ``mode``: ``'whole'`` (one pass, padded to ``size_divisor``) or
      ``'slide'`` (tiles of ``crop_size`` every ``stride``; images smaller
      than a crop fall back to ``'whole'``).
    - ``tile_merge`` (slide): ``'instances'`` (default) post-processes every
      tile and merges the tile instances (a nucleus cut by a tile seam is
      taken from the tile that sees it whole; see ``InstanceTileMerger``), as
      CellViT's WSI and CellVTA's CoNIC inference do; ``'maps'`` averages the
      tile maps where they overlap and post-processes once.
    - ``dup_thresh``: overlap ratio for the instance merge. Defaults to 0.5.
    - ``tile_batch``: tiles per forward. Defaults to 8.
    - ``scale_factor``: resize the normalised input bilinearly by this factor
      first (CellVTA's CoNIC protocol: 1.875, i.e. 256 -> 480 px so that 2 x
      2 crops of 256 with stride 224 cover it); results come back at
      ``ori_shape`` with a label-preserving resize.
    - ``return_maps``: keep the raw maps in the data samples.

    Args:
        backbone (dict): Backbone config.
        decode_head (dict): Head config.
        neck (dict, optional): Applied to the feature list.
        postprocessor (dict): ``TASK_UTILS`` post-processor. Defaults to
            ``dict(type='HoVerNetPostProcessor', magnification=40)``.
        train_cfg (dict, optional): See above.
        test_cfg (dict, optional): See above.
        data_preprocessor (dict, optional): e.g. ``SegDataPreProcessor`` with
            ``mean = std = 127.5`` (CellViT/CellVTA) and ``bgr_to_rgb``.
        pretrained (str, optional): Backbone checkpoint, set as its
            ``init_cfg``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 neck: OptConfigType = None,
                 postprocessor: ConfigType = dict(
                     type='HoVerNetPostProcessor', magnification=40),
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pretrained is not None:
            backbone = dict(backbone)
            backbone['init_cfg'] = dict(
                type='Pretrained', checkpoint=pretrained)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.decode_head = MODELS.build(decode_head)
        self.postprocessor = TASK_UTILS.build(postprocessor)
        self.align_corners = False
        self.train_cfg = self._merge_cfg(train_cfg, TRAIN_CFG_DEFAULTS,
                                         'train_cfg')
        self.test_cfg = self._merge_cfg(test_cfg, TEST_CFG_DEFAULTS,
                                        'test_cfg')
        if self.test_cfg.mode not in TEST_MODES:
            raise ValueError(f'CellInstanceSegmentor: test_cfg.mode must be '
                             f'one of {TEST_MODES}, got '
                             f'{self.test_cfg.mode!r}.')
        if self.test_cfg.tile_merge not in MERGE_MODES:
            raise ValueError('CellInstanceSegmentor: test_cfg.tile_merge must '
                             f'be one of {MERGE_MODES}, got '
                             f'{self.test_cfg.tile_merge!r}.')
        if self.test_cfg.mode == 'slide':
            crop = _pair(self.test_cfg.crop_size, 'crop_size')
            _pair(self.test_cfg.stride, 'stride')
            if crop[0] % 16 or crop[1] % 16:
                raise ValueError('CellInstanceSegmentor: test_cfg.crop_size '
                                 f'must be multiples of 16, got {crop}.')
        for target in ('np', 'hv'):
            if self.decode_head.branch_for(target) is None:
                raise ValueError(
                    f'CellInstanceSegmentor: the head has no branch with '
                    f"target '{target}'; the post-processing needs NP and "
                    'HV.')

    @staticmethod
    def _merge_cfg(cfg: OptConfigType, defaults: dict,
                   name: str) -> ConfigDict:
        cfg = dict(cfg or {})
        unknown = sorted(set(cfg) - set(defaults))
        if unknown:
            raise ValueError(f'CellInstanceSegmentor: unknown {name} keys '
                             f'{unknown}; allowed are {sorted(defaults)}.')
        return ConfigDict({**defaults, **cfg})

    # ------------------------------------------------------------------ #
    # Network
    # ------------------------------------------------------------------ #
    def extract_feat(self,
                     inputs: Tensor) -> Tuple[List[Tensor], Optional[Tensor]]:
        """``(B, 3, H, W)`` -> ``(feats, cls_token)`` of the backbone (and
        neck)."""
        out = self.backbone(inputs)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(
                f'CellInstanceSegmentor: the backbone '
                f'{type(self.backbone).__name__} must return (feats, '
                f'cls_token), got {type(out).__name__}.')
        feats, cls_token = out
        if self.neck is not None:
            feats = self.neck(feats)
        return list(feats), cls_token

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: Optional[List[dict]] = None
                      ) -> Dict[str, Tensor]:
        """Raw head outputs (logits, HV regression, tissue logits) at the
        input size."""
        feats, cls_token = self.extract_feat(inputs)
        return self.decode_head(feats, inputs, cls_token)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Dict[str, Tensor]:
        """``mode='tensor'``: the raw head outputs by branch name."""
        return self.encode_decode(inputs)

    def _branch_maps(self, outputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Head outputs -> ``np``/``nc`` softmax, ``hv`` raw, ``tissue``
        softmax (keys by target, not branch name)."""
        head = self.decode_head
        maps = {}
        for target in ('np', 'hv', 'nc'):
            name = head.branch_for(target)
            if name is None:
                continue
            out = outputs[name]
            maps[target] = out if target == 'hv' else out.softmax(dim=1)
        if 'tissue' in outputs:
            maps['tissue'] = outputs['tissue'].softmax(dim=-1)
        return maps

    # ------------------------------------------------------------------ #
    # Training
    # ------------------------------------------------------------------ #
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of every branch (``loss_np_ft``, ``loss_hv_msge``, ...) and,
        per ``train_cfg``, training metrics (keys without ``loss``)."""
        feats, cls_token = self.extract_feat(inputs)
        outputs = self.decode_head(feats, inputs, cls_token)
        targets = self.decode_head.stack_targets(
            data_samples, inputs.shape[-2:], inputs.device)
        losses = self.decode_head.loss_by_feat(outputs, targets)
        if self.train_cfg.log_pixel_metrics or \
                self.train_cfg.log_instance_metrics:
            with torch.no_grad():
                maps = self._branch_maps(
                    {k: v.detach()
                     for k, v in outputs.items()})
                if self.train_cfg.log_pixel_metrics:
                    losses.update(self._pixel_metrics(maps, targets))
                if self.train_cfg.log_instance_metrics:
                    losses.update(self._instance_metrics(maps, data_samples))
        return losses

    @staticmethod
    def _pixel_metrics(maps: Dict[str, Tensor],
                       targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Binary Dice / Jaccard of the NP argmax per image (NaN-skipping
        mean) and tissue accuracy, as CellViT logs them."""
        pred = maps['np'].argmax(dim=1).bool()
        gt = targets['np'].bool()
        inter = (pred & gt).flatten(1).sum(1).float()
        total = pred.flatten(1).sum(1).float() + gt.flatten(1).sum(1).float()
        valid = total > 0
        metrics = {}
        if valid.any():
            metrics['np_dice'] = (2 * inter[valid] / total[valid]).mean()
            metrics['np_jaccard'] = (inter[valid] /
                                     (total[valid] - inter[valid])).mean()
        if 'tissue' in maps and 'tissue' in targets:
            metrics['tissue_acc'] = (maps['tissue'].argmax(dim=-1) ==
                                     targets['tissue']).float().mean()
        return metrics

    def _instance_metrics(self, maps: Dict[str, Tensor],
                          data_samples: SampleList) -> Dict[str, Tensor]:
        """bPQ / mPQ of the post-processed training batch (image means)."""
        from mmpathseg.evaluation.metrics.instance_stats import \
            nuclei_image_stats
        from mmpathseg.evaluation.metrics.nuclei_aggregation import (
            per_image_scores, stack_stats)
        num_types = (self.decode_head.num_classes or 1) - 1
        stats = []
        for i, sample in enumerate(data_samples):
            if 'gt_instance_map' not in sample:
                continue
            height, width = sample.gt_instance_map.shape
            res = self.postprocessor(
                maps['np'][i, :, :height, :width],
                maps['hv'][i, :, :height, :width],
                maps['nc'][i, :, :height, :width] if 'nc' in maps else None)
            gt_type = sample.gt_sem_seg.data[0].cpu().numpy() \
                if num_types and 'gt_sem_seg' in sample else None
            if gt_type is not None:
                gt_type = np.where(gt_type == 255, 0, gt_type)
            stats.append(
                nuclei_image_stats(
                    sample.gt_instance_map.data[0].cpu().numpy(), gt_type,
                    res['inst_map'], res['type_map'] if num_types else None,
                    num_types if gt_type is not None else 0))
        if not stats:
            return {}
        scores = per_image_scores(stack_stats(stats))
        metrics = {}
        device = maps['np'].device
        for key in ('bPQ', 'mPQ'):
            if key in scores and not np.all(np.isnan(scores[key])):
                metrics[key] = torch.tensor(
                    float(np.nanmean(scores[key])), device=device)
        return metrics

    # ------------------------------------------------------------------ #
    # Inference
    # ------------------------------------------------------------------ #
    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Instances of every image, see the class docstring."""
        if data_samples is None:
            height, width = inputs.shape[-2:]
            data_samples = [
                SegDataSample(
                    metainfo=dict(
                        ori_shape=(height, width), img_shape=(height,
                                                              width)))
                for _ in range(inputs.shape[0])
            ]
        # Images of one batch may carry different bottom/right padding:
        # group the images by their valid region.
        groups: Dict[Tuple[int, int], List[int]] = {}
        for i, sample in enumerate(data_samples):
            groups.setdefault(self._valid_size(inputs, sample.metainfo),
                              []).append(i)
        for (height, width), index in groups.items():
            results = self.inference(inputs[index, :, :height, :width],
                                     [data_samples[i].metainfo
                                      for i in index])
            for i, result in zip(index, results):
                self._pack_result(data_samples[i], result)
        return data_samples

    @staticmethod
    def _valid_size(inputs: Tensor, meta: dict) -> Tuple[int, int]:
        height, width = inputs.shape[-2:]
        padding = meta.get('img_padding_size', meta.get('padding_size'))
        if padding is not None:
            left, right, top, bottom = padding
            return height - top - bottom, width - left - right
        return height, width

    def _map_fn(self, batch: Tensor) -> Dict[str, Tensor]:
        return self._branch_maps(self.encode_decode(batch))

    def inference(self, inputs: Tensor,
                  batch_img_metas: List[dict]) -> List[Dict]:
        """Post-processed results of images of the same size.

        Args:
            inputs (Tensor): ``(N, 3, H, W)`` normalised images, no padding.
            batch_img_metas (list[dict]): Their metainfo (``ori_shape``).

        Returns:
            list[dict]: per image ``inst_map`` / ``type_map`` (``(h, w)``
            numpy at ``ori_shape``), ``instances`` (InstanceData), optional
            ``maps`` (dict of ``(k, h, w)`` tensors) and ``tissue``
            (``(T, )`` softmax).
        """
        cfg = self.test_cfg
        if cfg.scale_factor:
            height, width = inputs.shape[-2:]
            size = (int(round(height * cfg.scale_factor)),
                    int(round(width * cfg.scale_factor)))
            inputs = F.interpolate(
                inputs, size=size, mode='bilinear', align_corners=False)
        slide = cfg.mode == 'slide' and check_slide_size(
            inputs, _pair(cfg.crop_size, 'crop_size'))

        maps = None
        if slide and cfg.tile_merge == 'instances':
            mergers, vectors = slide_instances(
                self._map_fn,
                inputs,
                _pair(cfg.crop_size, 'crop_size'),
                _pair(cfg.stride, 'stride'),
                self.postprocessor,
                dup_thresh=cfg.dup_thresh,
                tile_batch=cfg.tile_batch)
            results = [
                self._format_table(
                    merger.result(
                        output_shape=tuple(meta.get('ori_shape',
                                                    inputs.shape[-2:]))))
                for merger, meta in zip(mergers, batch_img_metas)
            ]
            tissue = vectors.get('tissue')
            if cfg.return_maps:
                maps = slide_maps(
                    self._map_fn,
                    inputs,
                    _pair(cfg.crop_size, 'crop_size'),
                    _pair(cfg.stride, 'stride'),
                    tile_batch=cfg.tile_batch)
        else:
            if slide:
                maps = slide_maps(
                    self._map_fn,
                    inputs,
                    _pair(cfg.crop_size, 'crop_size'),
                    _pair(cfg.stride, 'stride'),
                    tile_batch=cfg.tile_batch)
            else:
                maps = whole_maps(self._map_fn, inputs, cfg.size_divisor)
            tissue = maps.pop('tissue', None)
            results = []
            for i, meta in enumerate(batch_img_metas):
                res = self.postprocessor(maps['np'][i], maps['hv'][i],
                                         maps['nc'][i] if 'nc' in maps else
                                         None)
                ori_shape = tuple(meta.get('ori_shape', inputs.shape[-2:]))
                if tuple(res['inst_map'].shape) != ori_shape:
                    res = self._resize_result(res, ori_shape)
                results.append(res)

        if maps is not None:
            maps.pop('tissue', None)
        for i, (res, meta) in enumerate(zip(results, batch_img_metas)):
            if tissue is not None:
                res['tissue'] = tissue[i]
            if cfg.return_maps:
                ori_shape = tuple(meta.get('ori_shape', inputs.shape[-2:]))
                res['maps'] = {
                    k: F.interpolate(
                        v[i:i + 1], size=ori_shape, mode='bilinear',
                        align_corners=False)[0]
                    if tuple(v.shape[-2:]) != ori_shape else v[i]
                    for k, v in maps.items()
                }
        return results

    def _format_table(self, table: dict) -> dict:
        fmt = getattr(self.postprocessor, 'format_results',
                      HoVerNetPostProcessor.format_results)
        return fmt(table)

    def _resize_result(self, res: dict, shape: Tuple[int, int]) -> dict:
        """Bring a post-processed result to ``shape`` (label-preserving
        resize; ids renumbered 1..N, types and scores kept)."""
        inst = res['instances']
        merger = InstanceTileMerger(tuple(res['inst_map'].shape))
        merger.add(res['inst_map'], (0, 0), inst.ids.numpy(),
                   inst.labels.numpy(), inst.scores.numpy())
        return self._format_table(merger.result(output_shape=shape))

    @staticmethod
    def _pack_result(sample: SegDataSample, result: dict) -> None:
        inst_map = torch.from_numpy(np.ascontiguousarray(
            result['inst_map'])).long()[None]
        type_map = torch.from_numpy(np.ascontiguousarray(
            result['type_map'])).long()[None]
        sample.set_data(
            dict(
                pred_instance_map=PixelData(data=inst_map),
                pred_sem_seg=PixelData(data=type_map),
                pred_instances=result['instances']))
        if 'tissue' in result:
            sample.set_data(
                dict(
                    pred_tissue_scores=result['tissue'],
                    pred_tissue_label=result['tissue'].argmax()))
        for key, value in result.get('maps', {}).items():
            name = dict(np='pred_np_prob', nc='pred_nc_prob',
                        hv='pred_hv_map')[key]
            sample.set_data({name: PixelData(data=value)})


__all__ = ['CellInstanceSegmentor']
