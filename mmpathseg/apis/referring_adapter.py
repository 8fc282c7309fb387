# Copyright (c) mmpathseg contributors. All rights reserved.
"""Task adapter of referring segmentation
(:class:`~mmpathseg.models.segmentors.ReferringSegmentor`: LISA, GSVA,
LTSE): an image and an expression in, the generated answer and one mask per
[SEG] it contains out."""
import os.path as osp
from typing import Iterable, List, Optional

import numpy as np
import torch
import torch.nn as nn

from mmpathseg.exports import write_binary_mask_png, write_summary
from mmpathseg.visualization import draw_referring
from .task_adapters import ANNOTATION_TRANSFORMS, TaskAdapter, \
    register_task_adapter


@register_task_adapter('ReferringSegmentor')
class ReferringAdapter(TaskAdapter):
    """Answer + masks of a referring expression.

    Extra input: ``expression`` (str, required), e.g. ``'the tumor nests
    and the necrosis'``. The config's test pipeline builds the question
    (``BuildReferringConversation``, its first template) for an image with
    no annotated target (``LoadReferringAnnotations`` gets ``targets=[]``);
    the model answers greedily (up to ``test_cfg.max_new_tokens`` tokens)
    and every [SEG] of the answer is decoded into a mask; [REJ] slots
    (GSVA, LTSE) reject a target.

    Result dict (``task='referring'``): ``masks`` ``(S, H, W)`` bool at the
    original size, one per [SEG] slot in answer order; ``answer`` (the
    generated text); ``expression``; ``num_rejected`` ([REJ] slots);
    ``rejected`` (True when the answer has no [SEG]).

    Exports: ``png`` (``{stem}_ref_mask_{i}.png`` 0/255 per [SEG]),
    ``summary`` (``{stem}_summary.json``: expression, answer, per-mask
    foreground pixel count).
    """

    task = 'referring'
    drop_transforms = ANNOTATION_TRANSFORMS
    extra_input_keys = ('expression', )
    export_formats = ('png', 'summary')

    def add_inputs(self, data: dict, extra: Optional[dict]) -> dict:
        data = super().add_inputs(data, extra)
        expression = data.get('expression')
        if not isinstance(expression, str) or not expression.strip():
            raise ValueError(
                f'{type(self).__name__}: give a non-empty `expression` per '
                "image, e.g. dict(img='tile.png', expression='the tumor "
                f"nests'); got {expression!r}.")
        # No annotated target: the conversation is the question alone.
        data.update(targets=[], seg_map_path=None, ignore_values=None)
        return data

    @torch.no_grad()
    def predict_batch(self, model: nn.Module, batch: dict) -> list:
        """Greedy answer per sample; ``pred_masks`` ``(S, H0, W0)`` bool for
        its [SEG] slots, ``pred_text``, ``num_rejected`` in the sample."""
        from mmpathseg.models.language.seg_token_utils import slot_positions
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        embeddings = model.encode_image(inputs['sam'])
        mllm = model.mllm
        seg_ids = torch.as_tensor(mllm.seg_ids)
        for b, sample in enumerate(samples):
            clip = inputs['clip'][b:b + 1]
            prompt = sample.input_ids[:sample.prompt_length][None].to(
                clip.device)
            seq = mllm.generate(clip, prompt,
                                model.test_cfg['max_new_tokens'])
            pos = slot_positions(seq, model.slot_ids)[0]
            pos = pos[pos >= sample.prompt_length]
            is_seg = torch.isin(seq[0, pos], seg_ids.to(seq.device))
            ori = tuple(sample.metainfo['ori_shape'])[:2]
            masks = torch.zeros((0, ) + ori, dtype=torch.bool)
            if bool(is_seg.any()):
                hidden = mllm(clip, seq, torch.ones_like(seq))['hidden']
                states = hidden[0, pos[is_seg] - 1]
                dec = model.decode_masks(embeddings[b],
                                         mllm.projector(states),
                                         sample.metainfo['sam_shape'], ori)
                masks = dec['masks'].gt(
                    model.test_cfg['mask_threshold']).cpu()
            sample.pred_masks = masks
            sample.set_metainfo(
                dict(
                    pred_text=mllm.tokenizer.decode(
                        seq[0, sample.prompt_length:],
                        skip_special_tokens=False),
                    num_rejected=int((~is_seg).sum())))
        return samples

    def to_result(self, data_sample) -> dict:
        masks = data_sample.pred_masks.cpu().numpy().astype(bool)
        meta = data_sample.metainfo
        return dict(
            task=self.task,
            masks=masks,
            answer=meta.get('pred_text', ''),
            expression=meta.get('expression'),
            num_rejected=int(meta.get('num_rejected', 0)),
            rejected=len(masks) == 0)

    def draw(self, image: np.ndarray, result: dict, alpha: float = 0.45,
             **kwargs) -> np.ndarray:
        names = [f'mask {i}' for i in range(len(result['masks']))]
        return draw_referring(
            image,
            list(result['masks']),
            result.get('expression') or '',
            rejected=result['rejected'],
            target_names=names,
            alpha=alpha)

    def summary(self, result: dict) -> dict:
        masks = np.asarray(result['masks'])
        return dict(
            task=self.task,
            expression=result.get('expression'),
            answer=result.get('answer'),
            rejected=bool(result['rejected']),
            num_rejected=int(result.get('num_rejected', 0)),
            num_masks=len(masks),
            foreground_pixels=[int(np.count_nonzero(m)) for m in masks])

    def export(self, result: dict, out_dir: str, stem: str,
               formats: Iterable[str]) -> List[str]:
        formats = self.check_export_formats(formats)
        written = []
        if 'png' in formats:
            for i, mask in enumerate(np.asarray(result['masks'])):
                written.append(
                    write_binary_mask_png(
                        mask, osp.join(out_dir, f'{stem}_ref_mask_{i}.png')))
        if 'summary' in formats:
            written.append(
                write_summary(
                    dict(self.summary(result), image=stem),
                    osp.join(out_dir, f'{stem}_summary.json')))
        return written
