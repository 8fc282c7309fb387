# Copyright (c) mmpathseg contributors. All rights reserved.
"""Referring segmentation with an MLLM: LISA, GSVA and LTSE."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor

from mmpathseg.models.backbones.vit_protocol import nchw
from mmpathseg.models.language.seg_token_utils import (gather_slot_states,
                                                       predicted_rejections,
                                                       slot_positions)
from mmpathseg.models.losses.referring_mask_loss import (mask_bce_per_mask,
                                                         mask_dice_per_mask)
from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import (ConfigType, OptConfigType,
                                          OptMultiConfig)

__all__ = ['ReferringSegmentor']

TEST_MODES = ('teacher_forced', 'generate')


@MODELS.register_module()
class ReferringSegmentor(BaseModel):
    """MLLM + SAM: the hidden state predicting each [SEG] is projected into a
    SAM prompt and decoded by one SAM mask decoder (LISA, GSVA) or by the
    Adaptive Expert Mixture (LTSE).

    Training: token CE of the LLaVA answer (``loss_ce``) + per-mask BCE
    (``loss_bce``) + Dice (``loss_dice``) over the targets answered with a
    [SEG]; targets answered with [REJ] have no mask prediction and are left
    out of the mask losses (GSVA instead scores constant placeholders). Mask
    losses are averaged over the masks of the batch (LISA).

    Inference (``test_cfg.mode``):

    * ``'teacher_forced'`` (GSVA's evaluation): one forward over the ground
      truth conversation gives, per answer slot, whether the model would
      have said [REJ] (argmax at the position before the slot); a second
      forward with every [REJ] replaced by its [SEG] gives a mask for every
      target (GSVA's re-evaluation).
    * ``'generate'``: greedy generation from the question, then one forward
      over the generated sequence to gather the [SEG] states. Generated slots
      are matched to targets in order; a [REJ] slot, or a target with no
      generated slot, is rejected and gets an empty mask.

    Args:
        mllm (dict): :class:`LlavaSegMLLM` config.
        image_encoder (dict): :class:`SAMViT` config (``with_neck=True``);
            frozen unless ``train_image_encoder``.
        prompt_encoder (dict): ``segment_anything`` ``PromptEncoder`` kwargs
            (``embed_dim``, ``image_embedding_size``, ``input_image_size``,
            ``mask_in_chans``); frozen.
        mask_decoder (dict): ``SAMExpertDecoder`` or
            ``AdaptiveExpertMixture`` config; trained.
        loss_weights (dict): ``ce``, ``bce``, ``dice``. LISA: 1, 2, 0.5.
            Optional ``slot`` (default 0 = off): weight of an extra
            class-balanced token CE on the answer slots only
            (``loss_slot``, see :meth:`slot_loss`).
        test_cfg (dict): ``mode`` (above), ``max_new_tokens`` (32),
            ``mask_threshold`` on logits (0.0).
        sam_pretrained (str, optional): An official SAM checkpoint
            (``sam_vit_h_4b8939.pth``); its image encoder, prompt encoder
            and mask decoder (copied into every expert) load at
            ``init_weights``.
        train_image_encoder (bool): Train the SAM image encoder too (LISA,
            GSVA and LTSE freeze it; the tiny random demo models train it,
            as random frozen features are a poor start). Defaults to False.
    """

    # ``mode='tensor'`` needs the tokenised expression of real data
    # samples (get_flops.py).
    tensor_mode_needs_samples = True

    def __init__(self,
                 mllm: ConfigType,
                 image_encoder: ConfigType,
                 prompt_encoder: ConfigType,
                 mask_decoder: ConfigType,
                 data_preprocessor: OptConfigType = None,
                 loss_weights: Optional[dict] = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 sam_pretrained: Optional[str] = None,
                 train_image_encoder: bool = False,
                 init_cfg: OptMultiConfig = None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        from segment_anything.modeling import PromptEncoder
        self.mllm = MODELS.build(mllm)
        self.image_encoder = MODELS.build(image_encoder)
        if getattr(self.image_encoder, 'neck', None) is None:
            raise ValueError('ReferringSegmentor: image_encoder must keep '
                             'its neck (with_neck=True): SAM decoders read '
                             'the 256-channel neck output.')
        self.prompt_encoder = PromptEncoder(**prompt_encoder)
        self.mask_decoder = MODELS.build(mask_decoder)
        self.train_image_encoder = train_image_encoder
        frozen = [self.prompt_encoder]
        if not train_image_encoder:
            frozen.append(self.image_encoder)
        elif hasattr(self.image_encoder, 'unfreeze'):
            self.image_encoder.unfreeze()
        for module in frozen:
            for param in module.parameters():
                param.requires_grad_(False)
        if train_image_encoder:
            for param in self.image_encoder.parameters():
                param.requires_grad_(True)
        self.loss_weights = {
            **dict(ce=1.0, bce=2.0, dice=0.5, slot=0.0),
            **(loss_weights or {})
        }
        self.train_cfg = train_cfg or {}
        self.test_cfg = {
            **dict(mode='teacher_forced', max_new_tokens=32,
                   mask_threshold=0.0),
            **(test_cfg or {})
        }
        if self.test_cfg['mode'] not in TEST_MODES:
            raise ValueError(
                f'ReferringSegmentor: test_cfg.mode must be one of '
                f'{TEST_MODES}, got {self.test_cfg["mode"]!r} (e.g. '
                '--cfg-options model.test_cfg.mode=generate).')
        pad = getattr(self.data_preprocessor, 'pad_token_id', None)
        if pad is not None and pad in self.slot_ids:
            raise ValueError('ReferringSegmentor: the pad token id is a '
                             '[SEG]/[REJ] id.')
        self.sam_pretrained = sam_pretrained

    # ------------------------------------------------------------ helpers
    @property
    def use_rej(self) -> bool:
        return self.mllm.rej_id is not None

    @property
    def slot_ids(self) -> List[int]:
        ids = list(self.mllm.seg_ids)
        return ids + [self.mllm.rej_id] if self.use_rej else ids

    def init_weights(self):
        super().init_weights()
        if self.sam_pretrained:
            self.load_sam_weights(self.sam_pretrained)

    def load_sam_weights(self, path: str) -> None:
        """Load an official SAM checkpoint (``image_encoder.*``,
        ``prompt_encoder.*``, ``mask_decoder.*``); the mask decoder goes into
        every expert."""
        from mmpathseg.utils.checkpoint import load_tensor_state_dict
        state = load_tensor_state_dict(
            path, 'Use the official SAM checkpoint (sam_vit_h_4b8939.pth).')
        ours = {}
        decoder_keys = [
            k for k in self.mask_decoder.state_dict() if '.decoder.' in k
            or k.startswith('decoder.')
        ]
        for key, value in state.items():
            if key.startswith(('image_encoder.', 'prompt_encoder.')):
                ours[key] = value
            elif key.startswith('mask_decoder.'):
                tail = key[len('mask_decoder.'):]
                for k in decoder_keys:
                    if k.endswith('decoder.' + tail):
                        ours['mask_decoder.' + k] = value
        missing, unexpected = self.load_state_dict(ours, strict=False)
        sam_missing = [
            k for k in missing
            if k.startswith(('image_encoder.', 'prompt_encoder.')) or (
                k.startswith('mask_decoder.') and '.decoder.' in k)
        ]
        if sam_missing or unexpected:
            raise KeyError(f'{path}: SAM weights do not fit: missing '
                           f'{sam_missing[:5]}, unexpected {unexpected[:5]}.')
        print_log(f'ReferringSegmentor: loaded SAM weights from {path}.',
                  logger='current')

    def encode_image(self, sam_inputs: Tensor) -> Tensor:
        """``(B, 3, S, S)`` -> SAM neck embedding ``(B, 256, S/16, S/16)``."""
        enc = self.image_encoder
        with torch.set_grad_enabled(self.train_image_encoder
                                    and torch.is_grad_enabled()):
            tokens, _ = enc.embed(sam_inputs)
            tokens, _ = enc.forward_blocks(tokens, None, 0, enc.num_layers)
            return enc.neck(nchw(tokens))

    def decode_masks(self, image_embedding: Tensor, prompts: Tensor,
                     sam_shape: Tuple[int, int],
                     ori_shape: Tuple[int, int]) -> Dict[str, Tensor]:
        """Masks of one image's ``(N, C)`` prompts as ``(N, H, W)`` logits
        at ``ori_shape``."""
        sparse, dense = self.prompt_encoder(
            points=None, boxes=None, masks=None)
        sparse = torch.cat(
            [sparse.expand(len(prompts), -1, -1), prompts[:, None]], 1)
        out = self.mask_decoder(image_embedding[None],
                                self.prompt_encoder.get_dense_pe(), sparse,
                                dense)
        size = self.prompt_encoder.input_image_size
        masks = F.interpolate(
            out['masks'], size, mode='bilinear', align_corners=False)
        masks = masks[..., :sam_shape[0], :sam_shape[1]]
        masks = F.interpolate(
            masks, tuple(ori_shape), mode='bilinear', align_corners=False)
        out['masks'] = masks[:, 0]
        return out

    def _seg_targets(self, sample) -> Tensor:
        """Indices of the targets answered with [SEG]."""
        if not self.use_rej:
            return torch.arange(len(sample.gt_empty))
        return (~sample.gt_empty.bool()).nonzero(as_tuple=True)[0]

    # --------------------------------------------------------------- train
    def loss(self, inputs: dict, data_samples: list) -> Dict[str, Tensor]:
        out = self.mllm(inputs['clip'], inputs['input_ids'],
                        inputs['attention_mask'], inputs['labels'])
        prompts = self.mllm.seg_prompts(out['hidden'], inputs['input_ids'])
        image_embeddings = self.encode_image(inputs['sam'])
        bce, dice, gate = [], [], []
        for b, sample in enumerate(data_samples):
            index = self._seg_targets(sample).to(prompts[b].device)
            if len(index) != len(prompts[b]):
                raise ValueError(
                    f'ReferringSegmentor: {sample.metainfo.get("img_path")} '
                    f'ref {sample.metainfo.get("ref_id")}: {len(index)} '
                    f'[SEG] targets but {len(prompts[b])} [SEG] tokens in '
                    'the sequence (truncated conversation?).')
            if not len(index):
                continue
            dec = self.decode_masks(image_embeddings[b], prompts[b],
                                    sample.metainfo['sam_shape'],
                                    sample.metainfo['ori_shape'])
            target = sample.gt_masks[index]
            valid = ~sample.ignore_mask.bool()
            bce.append(mask_bce_per_mask(dec['masks'], target, valid))
            dice.append(mask_dice_per_mask(dec['masks'], target, valid))
            if dec.get('gate_weights') is not None:
                gate.append(dec['gate_weights'].detach())
        zero = out['hidden'].sum() * 0
        losses = dict(loss_ce=out['loss'] * self.loss_weights['ce'])
        losses['loss_bce'] = torch.cat(bce).mean() * \
            self.loss_weights['bce'] if bce else zero
        losses['loss_dice'] = torch.cat(dice).mean() * \
            self.loss_weights['dice'] if dice else zero
        if self.loss_weights['slot']:
            losses['loss_slot'] = self.slot_loss(
                out['logits'], inputs['labels']) * self.loss_weights['slot']
        if self.use_rej:
            losses.update(
                self.slot_accuracy(out['logits'].detach(),
                                   inputs['input_ids']))
        if gate:
            usage = torch.cat(gate).gt(0).float().mean(0)
            for i, value in enumerate(usage):
                losses[f'expert{i}_usage'] = value
        return losses

    def slot_accuracy(self, logits: Tensor,
                      input_ids: Tensor) -> Dict[str, Tensor]:
        """Teacher-forced [SEG]/[REJ] decisions of a training batch, logged
        next to the losses (keys without "loss", not optimised).

        Args:
            logits (Tensor): ``(B, L, V)`` LLM logits.
            input_ids (Tensor): ``(B, L)`` the ground-truth conversations.

        Returns:
            dict: ``slot_acc_seg`` (accepted / [SEG] slots, the batch's
            T-Acc), ``slot_acc_rej`` (rejected / [REJ] slots, N-Acc) and
            ``slot_margin`` (mean logit of the ground-truth slot token minus
            the other one: [SEG] - [REJ] at [SEG] slots, [REJ] - [SEG] at
            [REJ] slots; > 0 = right). A class without slots in the batch
            is left out (the logger would average a placeholder in).
        """
        rejected = predicted_rejections(logits, input_ids, self.mllm.seg_ids,
                                        self.mllm.rej_id)
        positions = slot_positions(input_ids, self.slot_ids)
        seg = torch.as_tensor(list(self.mllm.seg_ids), device=logits.device)
        is_rej, said_rej, margins = [], [], []
        for b, pos in enumerate(positions):
            gt_rej = input_ids[b, pos] == self.mllm.rej_id
            pred = logits[b, pos - 1].float()
            seg_logit = pred[:, seg].max(-1)[0]
            margin = seg_logit - pred[:, self.mllm.rej_id]
            margins.append(torch.where(gt_rej, -margin, margin))
            is_rej.append(gt_rej)
            said_rej.append(rejected[b].to(logits.device))
        out = {}
        if not positions or not sum(len(p) for p in positions):
            return out
        is_rej, said_rej = torch.cat(is_rej), torch.cat(said_rej)
        if (~is_rej).any():
            out['slot_acc_seg'] = (~said_rej[~is_rej]).float().mean()
        if is_rej.any():
            out['slot_acc_rej'] = said_rej[is_rej].float().mean()
        out['slot_margin'] = torch.cat(margins).mean()
        return out

    def slot_loss(self, logits: Tensor, labels: Tensor) -> Tensor:
        """Class-balanced token CE on the [SEG]/[REJ] answer slots.

        In the token CE every answer slot is one token among the whole
        answer, and [REJ] is the rarer class, so the [SEG]/[REJ] decision
        gets little weight. Here the CE of the positions predicting a slot
        (``logits[b, p - 1]`` for a slot label at ``p``) is averaged per
        ground-truth class ([SEG]: any [SEG] id; [REJ]) and the class means
        are averaged.

        Args:
            logits (Tensor): ``(B, L, V)`` LLM logits.
            labels (Tensor): ``(B, L)`` token labels, -100 = unsupervised.

        Returns:
            Tensor: scalar; 0 (with a gradient path) if no slot is labelled.
        """
        pred, target = logits[:, :-1], labels[:, 1:]
        seg = torch.as_tensor(list(self.mllm.seg_ids), device=labels.device)
        classes = [torch.isin(target, seg)]
        if self.use_rej:
            classes.append(target == self.mllm.rej_id)
        means = [
            F.cross_entropy(pred[mask], target[mask]) for mask in classes
            if mask.any()
        ]
        if not means:
            return logits.sum() * 0
        return torch.stack(means).mean()

    # ------------------------------------------------------------- predict
    def predict(self, inputs: dict, data_samples: list) -> list:
        image_embeddings = self.encode_image(inputs['sam'])
        if self.test_cfg['mode'] == 'generate':
            return self._predict_generate(inputs, data_samples,
                                          image_embeddings)
        return self._predict_teacher_forced(inputs, data_samples,
                                            image_embeddings)

    def _all_seg(self, input_ids: Tensor) -> Tensor:
        """Replace each [REJ] by the [SEG] token of its slot."""
        if not self.use_rej:
            return input_ids
        ids = input_ids.clone()
        distinct = len(self.mllm.seg_ids) > 1
        for b, pos in enumerate(slot_positions(input_ids, self.slot_ids)):
            for j, p in enumerate(pos.tolist()):
                if ids[b, p] == self.mllm.rej_id:
                    ids[b, p] = self.mllm.seg_ids[j if distinct else 0]
        return ids

    def _pack(self, sample, masks: Tensor, rejected: Tensor) -> None:
        sample.pred_masks = masks.gt(self.test_cfg['mask_threshold'])
        sample.pred_logits_max = masks.flatten(1).max(1)[0] if len(
            masks) else masks.new_zeros(0)
        sample.pred_rejected = rejected.bool()

    def _predict_teacher_forced(self, inputs, data_samples,
                                image_embeddings) -> list:
        ids = inputs['input_ids']
        if self.use_rej:
            out = self.mllm(inputs['clip'], ids, inputs['attention_mask'])
            rejected = predicted_rejections(out['logits'], ids,
                                            self.mllm.seg_ids,
                                            self.mllm.rej_id)
            all_seg = self._all_seg(ids)
            hidden = self.mllm(inputs['clip'], all_seg,
                               inputs['attention_mask'])['hidden']
        else:
            all_seg = ids
            hidden = self.mllm(inputs['clip'], ids,
                               inputs['attention_mask'])['hidden']
            rejected = [None] * len(data_samples)
        prompts = self.mllm.seg_prompts(hidden, all_seg)
        for b, sample in enumerate(data_samples):
            n_targets = len(sample.gt_empty)
            if len(prompts[b]) != n_targets:
                raise ValueError(
                    f'ReferringSegmentor: {n_targets} targets but '
                    f'{len(prompts[b])} answer slots in the sequence.')
            dec = self.decode_masks(image_embeddings[b], prompts[b],
                                    sample.metainfo['sam_shape'],
                                    sample.metainfo['ori_shape'])
            rej = rejected[b] if rejected[b] is not None else \
                torch.zeros(n_targets, dtype=torch.bool)
            self._pack(sample, dec['masks'], rej.cpu())
        return data_samples

    def _predict_generate(self, inputs, data_samples,
                          image_embeddings) -> list:
        tokenizer = self.mllm.tokenizer
        for b, sample in enumerate(data_samples):
            prompt = sample.input_ids[:sample.prompt_length][None].to(
                inputs['clip'].device)
            clip = inputs['clip'][b:b + 1]
            seq = self.mllm.generate(clip, prompt,
                                     self.test_cfg['max_new_tokens'])
            hidden = self.mllm(clip, seq, torch.ones_like(seq))['hidden']
            pos = slot_positions(seq, self.slot_ids)[0]
            pos = pos[pos >= sample.prompt_length]
            is_seg = torch.isin(
                seq[0, pos], torch.as_tensor(self.mllm.seg_ids,
                                             device=seq.device))
            n_targets = len(sample.gt_empty)
            ori = tuple(sample.metainfo['ori_shape'])
            masks = torch.full((n_targets, ) + ori, -1.0)
            rejected = torch.ones(n_targets, dtype=torch.bool)
            seg_slots = [j for j in range(min(n_targets, len(pos)))
                         if is_seg[j]]
            if seg_slots:
                states = hidden[0, pos[seg_slots] - 1]
                dec = self.decode_masks(image_embeddings[b],
                                        self.mllm.projector(states),
                                        sample.metainfo['sam_shape'], ori)
                masks[seg_slots] = dec['masks'].float().cpu()
                rejected[seg_slots] = False
            sample.pred_text = tokenizer.decode(
                seq[0, sample.prompt_length:], skip_special_tokens=False)
            sample.num_generated_slots = int(len(pos))
            self._pack(sample, masks, rejected)
        return data_samples

    def _forward(self, inputs: dict, data_samples=None):
        out = self.mllm(inputs['clip'], inputs['input_ids'],
                        inputs['attention_mask'])
        return out['logits']

    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, '
                           'predict and tensor mode')
