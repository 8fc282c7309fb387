# Copyright (c) mmpathseg contributors. All rights reserved.
"""Segmentor of the promptable family: SAM, FT-SAM, MedSAM, SAM-Med2D and
SyncSAM, trained by interactive simulation."""
import random
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmseg.models.segmentors.base import BaseSegmentor
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import (ConfigType, OptConfigType,
                                          OptMultiConfig, OptSampleList,
                                          SampleList)
from .interactive_simulation import (TEST_DEFAULTS, TRAIN_DEFAULTS,
                                     merge_cfg, sample_error_clicks)


def mode_name(num_points: int) -> str:
    """Prediction / metric key of a click count: ``1pt``, ``5pt``."""
    return f'{num_points}pt'


@MODELS.register_module()
class PromptableSegmentor(BaseSegmentor):
    """Image encoder -> (prompt encoder, mask decoder) -> one mask per
    prompt.

    Every data sample carries ``K`` objects of its image (see
    ``PackPromptInputs``): ``gt_masks`` ``(K, H, W)``, ``gt_boxes``
    ``(K, 4)``, ``gt_points`` / ``gt_point_labels`` ``(K, P, 2)`` /
    ``(K, P)``, all in the model-input frame. The image is encoded once and
    its embedding gathered for each of its masks, so masks of all images of
    the batch go through the decoder together (``M = sum K``).

    ``segment_anything``'s ``Sam.forward`` runs under ``no_grad``; this
    class calls the parts itself, so it trains.

    **Training** (``loss``) simulates interaction (``train_cfg``, defaults in
    ``interactive_simulation.TRAIN_DEFAULTS``):

    - ``first_prompt``: probabilities of starting a batch with the box
      (``'box'``) or the first GT point (``'point'``); MedSAM and sam-unet
      are box only: ``dict(box=1.0)``.
    - ``num_rounds``: corrective rounds after the first prompt (0 = single
      step). Each samples ``random.choice(clicks_per_round)`` clicks from
      the error region of the previous prediction (input frame, inside the
      image), replaces the points (SAM-Med2D) or, with
      ``accumulate_points``, adds them to every prompt so far (the first box
      or point and all earlier clicks: the test's sequential clicks, SAM's
      and IMIS' loops), and feeds the previous low-resolution prediction
      back as mask prompt (``mask_prompt``: ``'logits'`` as SAM / IMIS,
      ``'prob'`` as SAM-Med2D). With ``mask_only_rounds`` the prompt is
      the mask alone at one random round and at the last (SAM-Med2D,
      IMIS).
    - ``detach_image_features``: corrective rounds train the decoder only
      (the encoder gets the first round's gradient).
    - ``round_reduction``: the loss of every round is summed per key and
      divided by the round count (``'mean'``) or not (``'sum'``, IMIS). One
      optimiser step per batch, as IMIS; SAM-Med2D steps after every round
      (9 steps per batch), which this loop does not reproduce.

    **Testing** (``predict``, ``test_cfg``): ``box`` prompts (no jitter), and
    ``points``: sequential clicks, the first from the pipeline, then one
    error click per round (accumulated; previous logits fed back), recorded
    after each count in ``points`` (default 1 and 5). Click sampling is
    seeded per image (``seed`` + its ``sample_idx``), so every run sees the
    same clicks, whatever the batch size. Logits go to the input size
    (bilinear), are cropped to the image's ``valid_region``, resized
    bilinearly to ``ori_shape`` and thresholded at ``mask_threshold`` (0:
    logit > 0). Each data sample gets ``pred_masks_box`` /
    ``pred_masks_1pt`` / ``pred_masks_5pt``: ``(K, H0, W0)`` bool, and the
    prompts that produced them (``prompt_boxes_box``,
    ``prompt_points_<n>pt``, ``prompt_point_labels_<n>pt``; input frame),
    which ``PathSegLocalVisualizer`` draws.

    Args:
        image_encoder (dict): ``SyncSAMEncoder`` / ``SAMImageEncoder``:
            returns ``(embedding (B, C, h, w), hq_feature or None)``.
        prompt_encoder (dict): ``SAMPromptEncoder`` config.
        mask_decoder (dict): ``SAMMaskDecoder`` / ``MedTokenMaskDecoder``.
        train_cfg (dict, optional): See above.
        test_cfg (dict, optional): See above.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` with
            SAM's mean/std and ``size``/``test_cfg.size`` padding.
        init_cfg (dict, optional): e.g. ``Pretrained`` with a checkpoint from
            ``tools/model_converters/sam2promptable.py``.
    """

    # ``mode='tensor'`` needs the prompts of real data samples (get_flops.py).
    tensor_mode_needs_samples = True

    def __init__(self,
                 image_encoder: ConfigType,
                 prompt_encoder: ConfigType,
                 mask_decoder: ConfigType,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.image_encoder = MODELS.build(image_encoder)
        self.prompt_encoder = MODELS.build(prompt_encoder)
        self.mask_decoder = MODELS.build(mask_decoder)
        self.train_cfg = merge_cfg(train_cfg, TRAIN_DEFAULTS, 'train_cfg')
        self.test_cfg = merge_cfg(test_cfg, TEST_DEFAULTS, 'test_cfg')
        self.align_corners = False

    # ------------------------------------------------------------------ #
    # Parts
    # ------------------------------------------------------------------ #
    def extract_feat(self, inputs: Tensor
                     ) -> Tuple[Tensor, Optional[Tensor]]:
        """``(B, 3, H, W)`` -> ``(embedding, hq_feature or None)``."""
        return self.image_encoder(inputs)

    def decode(self,
               embeddings: Tensor,
               hq: Optional[Tensor],
               points: Optional[Tuple[Tensor, Tensor]] = None,
               boxes: Optional[Tensor] = None,
               masks: Optional[Tensor] = None
               ) -> Tuple[Tensor, Optional[Tensor]]:
        """Per-mask embeddings ``(M, C, h, w)`` (+ hq ``(M, c, 4h, 4w)``) and
        prompts -> ``(logits (M, 1, 4h, 4w), iou_pred or None)``."""
        sparse, dense = self.prompt_encoder(
            points=points, boxes=boxes, masks=masks,
            num=embeddings.shape[0])
        return self.mask_decoder(embeddings,
                                 self.prompt_encoder.get_dense_pe(), sparse,
                                 dense, hq)

    @staticmethod
    def _pad_to(mask: Tensor, size: Tuple[int, int]) -> Tensor:
        pad_h, pad_w = size[0] - mask.shape[-2], size[1] - mask.shape[-1]
        if pad_h < 0 or pad_w < 0:
            raise ValueError(f'PromptableSegmentor: masks {tuple(mask.shape)}'
                             f' are larger than the input {size}.')
        return F.pad(mask, (0, pad_w, 0, pad_h))

    def _gather(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Stack the objects of all samples (``M`` of them)."""
        size = tuple(inputs.shape[-2:])
        device = inputs.device
        counts, gts, boxes, points, labels, valid = [], [], [], [], [], []
        for sample in data_samples:
            masks = sample.gt_masks.to(device)
            counts.append(masks.shape[0])
            gts.append(self._pad_to(masks, size))
            region = torch.zeros((1, ) + size, dtype=torch.bool,
                                 device=device)
            x0, y0, x1, y1 = sample.metainfo.get(
                'valid_region', (0, 0) + tuple(masks.shape[-2:])[::-1])
            region[:, y0:y1, x0:x1] = True
            valid.append(region.expand(masks.shape[0], -1, -1))
            if 'gt_boxes' in sample:
                boxes.append(sample.gt_boxes.to(device))
            if 'gt_points' in sample:
                points.append(sample.gt_points.to(device))
                labels.append(sample.gt_point_labels.to(device))
        out = dict(
            counts=counts,
            index=torch.repeat_interleave(
                torch.arange(len(counts), device=device),
                torch.tensor(counts, device=device)),
            gt=torch.cat(gts).bool(),
            valid=torch.cat(valid))
        out['boxes'] = torch.cat(boxes) if len(boxes) == len(counts) \
            else None
        out['points'] = (torch.cat(points), torch.cat(labels)) \
            if len(points) == len(counts) else None
        return out

    def _upsample(self, logits: Tensor, size) -> Tensor:
        return F.interpolate(
            logits, size=size, mode='bilinear', align_corners=False)

    # ------------------------------------------------------------------ #
    # Training
    # ------------------------------------------------------------------ #
    def _first_prompt(self, batch: dict) -> dict:
        cfg = self.train_cfg
        names = [n for n, p in cfg.first_prompt.items() if p > 0]
        weights = [cfg.first_prompt[n] for n in names]
        choice = random.choices(names, weights=weights)[0]
        if choice == 'box':
            if batch['boxes'] is None:
                raise ValueError('PromptableSegmentor: train_cfg asks for box '
                                 'prompts but the samples have no gt_boxes; '
                                 'add GenerateBoxPrompt to the pipeline.')
            return dict(boxes=batch['boxes'])
        if batch['points'] is None:
            raise ValueError('PromptableSegmentor: train_cfg asks for point '
                             'prompts but the samples have no gt_points; add '
                             'GeneratePointPrompt to the pipeline.')
        coords, labels = batch['points']
        return dict(points=(coords[:, :1], labels[:, :1]))

    def _mask_prompt(self, logits: Tensor, how: str) -> Tensor:
        logits = logits.detach()
        return logits.sigmoid() if how == 'prob' else logits

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses summed (or averaged) over the simulated rounds."""
        cfg = self.train_cfg
        embedding, hq = self.extract_feat(inputs)
        batch = self._gather(inputs, data_samples)
        index, gt = batch['index'], batch['gt']
        emb_m = embedding[index]
        hq_m = hq[index] if hq is not None else None
        first = self._first_prompt(batch)
        logits, iou = self.decode(emb_m, hq_m, **first)
        losses = self.mask_decoder.loss_by_feat(logits, gt, iou)
        rounds = int(cfg.num_rounds)
        if rounds > 0 and cfg.detach_image_features:
            emb_m = emb_m.detach()
            hq_m = hq_m.detach() if hq_m is not None else None
        mask_only = set()
        if cfg.mask_only_rounds and rounds > 0:
            mask_only = {rounds - 1}
            if rounds > 2:
                mask_only.add(random.randint(1, rounds - 2))
        # Accumulating, the first prompt stays and the clicks add to it, as
        # in the test's sequential clicks (the GT point + error clicks).
        points = first.get('points') if cfg.accumulate_points else None
        boxes = first.get('boxes') if cfg.accumulate_points else None
        for step in range(rounds):
            with torch.no_grad():
                pred = self._upsample(logits.detach(), gt.shape[-2:])[:, 0] > 0
                clicks = sample_error_clicks(
                    pred, gt, random.choice(list(cfg.clicks_per_round)),
                    batch['valid'])
            if points is not None and cfg.accumulate_points:
                points = (torch.cat([points[0], clicks[0]], 1),
                          torch.cat([points[1], clicks[1]], 1))
            else:
                points = clicks
            prompt = dict(masks=self._mask_prompt(logits, cfg.mask_prompt))
            if step not in mask_only:
                prompt['points'] = points
                if boxes is not None:
                    prompt['boxes'] = boxes
            logits, iou = self.decode(emb_m, hq_m, **prompt)
            for key, value in self.mask_decoder.loss_by_feat(
                    logits, gt, iou).items():
                losses[key] = losses[key] + value
        if cfg.round_reduction == 'mean' and rounds > 0:
            losses = {k: v / (rounds + 1) for k, v in losses.items()}
        return losses

    # ------------------------------------------------------------------ #
    # Inference
    # ------------------------------------------------------------------ #
    def _restore(self, logits: Tensor, batch: dict, size,
                 data_samples: SampleList) -> List[Tensor]:
        """Low-res logits -> per-sample ``(K, H0, W0)`` bool masks."""
        up = self._upsample(logits, size)[:, 0]
        out, start = [], 0
        for count, sample in zip(batch['counts'], data_samples):
            part = up[start:start + count]
            start += count
            x0, y0, x1, y1 = sample.metainfo.get(
                'valid_region', (0, 0, size[1], size[0]))
            part = part[:, y0:y1, x0:x1]
            ori = tuple(sample.metainfo.get('ori_shape', part.shape[-2:]))
            if tuple(part.shape[-2:]) != ori[:2]:
                part = self._upsample(part[:, None], ori[:2])[:, 0]
            out.append(part > self.test_cfg.mask_threshold)
        return out

    def click_generators(self,
                         data_samples: SampleList) -> List[torch.Generator]:
        """One generator per image, seeded with ``test_cfg.seed`` + its
        ``sample_idx``: an image gets the same test clicks in any batch,
        order or rank."""
        return [
            torch.Generator().manual_seed(
                int(self.test_cfg.seed) +
                int(sample.metainfo.get('sample_idx', i)))
            for i, sample in enumerate(data_samples)
        ]

    def test_clicks(self, logits: Tensor, batch: dict, size: Tuple[int, int],
                    generators: List[torch.Generator]
                    ) -> Tuple[Tensor, Tensor]:
        """One error click per mask for the next test round.

        Args:
            logits: ``(M, 1, 4h, 4w)`` logits of the previous round.
            batch (dict): From ``_gather`` (``gt``, ``valid``, ``counts``).
            size (tuple): Input size ``(H, W)``; errors are taken there.
            generators (list): One per image (:meth:`click_generators`).

        Returns:
            tuple: ``coords`` ``(M, 1, 2)`` ``(x, y)`` and ``labels``
            ``(M, 1)`` (1 on a false negative, 0 on a false positive, -1
            without error).
        """
        pred = self._upsample(logits, size)[:, 0] > 0
        coords, labels, start = [], [], 0
        for count, generator in zip(batch['counts'], generators):
            part = slice(start, start + count)
            start += count
            if count == 0:
                continue
            new = sample_error_clicks(pred[part], batch['gt'][part], 1,
                                      batch['valid'][part], generator)
            coords.append(new[0])
            labels.append(new[1])
        if not coords:
            return (logits.new_zeros((0, 1, 2)),
                    torch.zeros((0, 1), dtype=torch.long,
                                device=logits.device))
        return torch.cat(coords), torch.cat(labels)

    def predict_modes(self,
                      inputs: Tensor,
                      data_samples: SampleList,
                      prompts: Optional[dict] = None
                      ) -> Dict[str, List[Tensor]]:
        """Predictions of every test prompt mode, by mode name.

        Args:
            inputs (Tensor): ``(B, 3, H, W)``.
            data_samples (list): Samples carrying the prompts.
            prompts (dict, optional): If given, filled with the prompts that
                produced each mode's masks, per sample (input frame):
                ``prompts[mode] = [dict(boxes=(K, 4))]`` or
                ``[dict(points=(K, P, 2), point_labels=(K, P))]`` (label -1:
                a padding click of a mask without error).

        Returns:
            dict: ``{mode: [(K, H0, W0) bool per sample]}``.
        """
        cfg = self.test_cfg
        size = tuple(inputs.shape[-2:])
        embedding, hq = self.extract_feat(inputs)
        batch = self._gather(inputs, data_samples)
        emb_m = embedding[batch['index']]
        hq_m = hq[batch['index']] if hq is not None else None
        results = {}
        if cfg.box:
            if batch['boxes'] is None:
                raise ValueError('PromptableSegmentor: test_cfg.box needs '
                                 'gt_boxes (GenerateBoxPrompt).')
            logits, _ = self.decode(emb_m, hq_m, boxes=batch['boxes'])
            results['box'] = self._restore(logits, batch, size, data_samples)
            if prompts is not None:
                prompts['box'] = [
                    dict(boxes=b) for b in self._split(batch['boxes'], batch)
                ]
        record = sorted(int(p) for p in (cfg.points or ()))
        if record:
            if batch['points'] is None:
                raise ValueError('PromptableSegmentor: test_cfg.points needs '
                                 'gt_points (GeneratePointPrompt).')
            generators = self.click_generators(data_samples)
            coords, labels = batch['points']
            points = (coords[:, :1], labels[:, :1])
            logits, masks = None, None
            for clicks in range(1, record[-1] + 1):
                if clicks > 1:
                    new = self.test_clicks(logits, batch, size, generators)
                    points = (torch.cat([points[0], new[0]], 1),
                              torch.cat([points[1], new[1]], 1))
                    masks = self._mask_prompt(logits, cfg.mask_prompt)
                logits, _ = self.decode(emb_m, hq_m, points=points,
                                        masks=masks)
                if clicks in record:
                    results[mode_name(clicks)] = self._restore(
                        logits, batch, size, data_samples)
                    if prompts is not None:
                        prompts[mode_name(clicks)] = [
                            dict(points=c, point_labels=lab)
                            for c, lab in zip(
                                self._split(points[0], batch),
                                self._split(points[1], batch))
                        ]
        return results

    @staticmethod
    def _split(stacked: Tensor, batch: dict) -> List[Tensor]:
        """``(M, ...)`` stacked over the batch -> ``(K, ...)`` per sample
        (detached, on the CPU)."""
        return list(stacked.detach().cpu().split(batch['counts']))

    def predict(self, inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Fill ``pred_masks_<mode>`` of every data sample, and the prompts
        that produced them (input frame, for drawing):
        ``prompt_boxes_box`` ``(K, 4)``; ``prompt_points_<n>pt`` ``(K, n,
        2)`` and ``prompt_point_labels_<n>pt`` ``(K, n)`` (the first click
        from the pipeline, then the simulated error clicks; 1 positive, 0
        negative, -1 padding)."""
        if data_samples is None:
            raise ValueError('PromptableSegmentor.predict needs data samples '
                             'carrying the prompts.')
        prompts = {}
        results = self.predict_modes(inputs, data_samples, prompts)
        for mode, per_sample in results.items():
            used = prompts.get(mode) or [{}] * len(data_samples)
            for sample, masks, prompt in zip(data_samples, per_sample, used):
                sample.set_data({f'pred_masks_{mode}': masks})
                sample.set_data(
                    {f'prompt_{k}_{mode}': v
                     for k, v in prompt.items()})
        return data_samples

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        raise NotImplementedError(
            'PromptableSegmentor needs prompts: use predict(inputs, '
            'data_samples).')

    def _forward(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """``mode='tensor'``: low-res box-prompted logits ``(M, 1, 4h,
        4w)``."""
        embedding, hq = self.extract_feat(inputs)
        batch = self._gather(inputs, data_samples)
        hq_m = hq[batch['index']] if hq is not None else None
        return self.decode(embedding[batch['index']], hq_m,
                           boxes=batch['boxes'])[0]
