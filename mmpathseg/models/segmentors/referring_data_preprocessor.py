# Copyright (c) mmpathseg contributors. All rights reserved.
"""Two image views and padded token tensors for referring segmentation."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor

from mmpathseg.registry import MODELS

__all__ = ['ReferringDataPreprocessor']

SAM_MEAN = (123.675, 116.28, 103.53)
SAM_STD = (58.395, 57.12, 57.375)
CLIP_MEAN = (122.770938, 116.7460125, 104.09373615)  # 0.48145466.. * 255
CLIP_STD = (68.5005327, 66.6321579, 70.32316305)


@MODELS.register_module()
class ReferringDataPreprocessor(BaseDataPreprocessor):
    """Make SAM's and CLIP's views of each image and pad the conversations.

    * SAM view (LISA): resize so the long side is ``sam_size`` (bilinear,
      antialiased), normalise with SAM's mean/std, zero-pad bottom/right to
      ``sam_size x sam_size``; the resized ``(h, w)`` goes to the metainfo as
      ``sam_shape`` (predictions are cropped to it, then resized to
      ``ori_shape``).
    * CLIP view: resize the short side to ``clip_size`` (bicubic), centre
      crop ``clip_size x clip_size``, normalise with CLIP's mean/std.
    * Tokens: right-pad ``input_ids`` with ``pad_token_id``, ``labels`` with
      -100, and build ``attention_mask``.

    Args:
        sam_size (int): Defaults to 1024.
        clip_size (int): Defaults to 224.
        pad_token_id (int): Defaults to 0 (LLaMA's unk, LISA's pad).
        bgr_to_rgb (bool): Images come from ``LoadImageFromFile`` in BGR.
            Defaults to True.

    Returns of ``forward``: ``dict(inputs=dict(sam (B, 3, S, S), clip
    (B, 3, C, C), input_ids (B, L), attention_mask (B, L), labels (B, L)),
    data_samples=...)``.
    """

    def __init__(self,
                 sam_size: int = 1024,
                 clip_size: int = 224,
                 sam_mean: Sequence[float] = SAM_MEAN,
                 sam_std: Sequence[float] = SAM_STD,
                 clip_mean: Sequence[float] = CLIP_MEAN,
                 clip_std: Sequence[float] = CLIP_STD,
                 pad_token_id: int = 0,
                 bgr_to_rgb: bool = True):
        super().__init__()
        self.sam_size = sam_size
        self.clip_size = clip_size
        self.pad_token_id = pad_token_id
        self.bgr_to_rgb = bgr_to_rgb
        for name, value in (('sam_mean', sam_mean), ('sam_std', sam_std),
                            ('clip_mean', clip_mean), ('clip_std', clip_std)):
            self.register_buffer(
                name, torch.tensor(value, dtype=torch.float32).view(3, 1, 1),
                False)

    def _views(self, img: torch.Tensor):
        img = img.float()
        if self.bgr_to_rgb:
            img = img.flip(0)
        h, w = img.shape[-2:]
        scale = self.sam_size / max(h, w)
        sh, sw = int(h * scale + 0.5), int(w * scale + 0.5)
        sam = F.interpolate(
            img[None], (sh, sw), mode='bilinear', align_corners=False,
            antialias=True)[0]
        sam = (sam - self.sam_mean) / self.sam_std
        sam = F.pad(sam, (0, self.sam_size - sw, 0, self.sam_size - sh))
        scale = self.clip_size / min(h, w)
        ch, cw = max(self.clip_size, int(h * scale + 0.5)), max(
            self.clip_size, int(w * scale + 0.5))
        clip = F.interpolate(
            img[None], (ch, cw), mode='bicubic', align_corners=False,
            antialias=True)[0].clamp(0, 255)
        top, left = (ch - self.clip_size) // 2, (cw - self.clip_size) // 2
        clip = clip[:, top:top + self.clip_size, left:left + self.clip_size]
        clip = (clip - self.clip_mean) / self.clip_std
        return sam, clip, (sh, sw)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        images, samples = data['inputs'], data['data_samples']
        sams, clips = [], []
        for img, sample in zip(images, samples):
            sam, clip, shape = self._views(img)
            sams.append(sam)
            clips.append(clip)
            sample.set_metainfo(
                dict(sam_shape=shape, ori_shape=tuple(img.shape[-2:])))
        length = max(len(s.input_ids) for s in samples)
        batch = len(samples)
        device = sams[0].device
        input_ids = torch.full((batch, length), self.pad_token_id,
                               dtype=torch.long, device=device)
        labels = torch.full_like(input_ids, -100)
        attention = torch.zeros_like(input_ids)
        for b, sample in enumerate(samples):
            n = len(sample.input_ids)
            input_ids[b, :n] = sample.input_ids
            labels[b, :n] = sample.labels
            attention[b, :n] = 1
        return dict(
            inputs=dict(
                sam=torch.stack(sams),
                clip=torch.stack(clips),
                input_ids=input_ids,
                attention_mask=attention,
                labels=labels),
            data_samples=samples)
