# Copyright (c) mmpathseg contributors. All rights reserved.
"""Report-guided binary segmentation (Ariadne's Thread, MLMoE), with text,
without text (virtual prompt) or with a fixed sentence."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.structures import SegDataSample
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import (ConfigType, OptConfigType,
                                          OptMultiConfig, OptSampleList,
                                          SampleList)

TEXT_MODES = ('text', 'none', 'fixed', 'virtual')
MISSING_TEXT = ('auto', 'virtual', 'empty', 'error')
TRAIN_CFG_DEFAULTS = dict(
    text_mode='text',
    missing_text='auto',
    fixed_text='pneumonia',
    with_diversity=True)
TEST_CFG_DEFAULTS = dict(
    text_mode='text',
    missing_text='auto',
    fixed_text='pneumonia',
    threshold=0.5,
    output_shape='img_shape')


@MODELS.register_module()
class TextGuidedSegmentor(BaseSegmentor):
    """Image encoder + text encoder + guide decoder, one lesion channel.

    The backbone maps ``(B, 3, H, W)`` to four maps (strides 4-32; e.g.
    ``mmpretrain.ConvNeXt`` with ``out_indices=(0, 1, 2, 3)``); the text
    encoder maps the reports in the data samples' metainfo (``text``,
    ``has_text``; see ``PackTextSegInputs``) to ``(B, L, D)`` features; the
    head (:class:`~mmpathseg.models.decode_heads.GuideDecoderHead`) fuses
    them and owns the losses.

    **Text modes** (``train_cfg.text_mode`` / ``test_cfg.text_mode``):

    - ``'text'``: each sample's report. A sample marked ``has_text=False``
      follows ``missing_text``: ``'virtual'`` (the virtual prompt),
      ``'empty'`` (the empty sentence, i.e. ``[CLS] [SEP]`` and padding),
      ``'error'``, or ``'auto'`` (virtual when the model has a prompt, else
      empty).
    - ``'none'``: no text; the guide layers are skipped (Ariadne's text-free
      path; a mono-modal model trained this way is the "without text"
      baseline).
    - ``'fixed'``: every sample gets ``fixed_text`` (the paper's
      "pneumonia" ablation).
    - ``'virtual'``: the learnable virtual prompt for every sample (MLMoE
      without text).

    **Text-absent stage** (MLMoE): build the model with ``virtual_prompt``,
    a head ``adapter`` and ``distill_loss``; set ``train_cfg.text_mode =
    'virtual'``, ``trainable = ('virtual_prompt', 'decode_head.adapters')``
    and ``load_from`` the text-trained checkpoint. Each training step runs
    the frozen network twice on the same image features: the teacher with
    the real report and no adapters, the student with the prompt and the
    adapters; the loss is the student's segmentation loss plus
    ``distill_loss`` between the fused tokens of every guide stage.

    Args:
        backbone (dict): Image encoder.
        decode_head (dict): ``GuideDecoderHead``.
        text_encoder (dict, optional): ``BertTextEncoder``; needed by the
            ``'text'``/``'fixed'`` modes and by distillation.
        virtual_prompt (dict, optional): ``VirtualPrompt``; its
            ``embed_dims`` must equal the text width.
        distill_loss (dict, optional): ``FeatureDistillLoss``.
        trainable (Sequence[str], optional): Parameter-name prefixes that
            train; every other parameter is frozen and its modules kept in
            eval mode (BN statistics do not move). None trains all.
        train_cfg (dict, optional): ``text_mode``, ``missing_text``,
            ``fixed_text``, ``with_diversity`` (add the gate diversity loss;
            defaults to True).
        test_cfg (dict, optional): ``text_mode``, ``missing_text``,
            ``fixed_text``, ``threshold`` (on the sigmoid, 0.5),
            ``output_shape`` (``'img_shape'``: the resized input, where
            Ariadne/MLMoE evaluate; ``'ori_shape'``: resized back).
        data_preprocessor (dict, optional): ``SegDataPreProcessor``.
        pretrained (str, optional): Backbone checkpoint.
        init_cfg (dict, optional): Initialisation config.
    """

    # ``mode='tensor'`` needs the report of real data samples (get_flops.py).
    tensor_mode_needs_samples = True

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 text_encoder: OptConfigType = None,
                 virtual_prompt: OptConfigType = None,
                 distill_loss: OptConfigType = None,
                 trainable: Optional[Sequence[str]] = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pretrained is not None:
            backbone = dict(
                backbone, init_cfg=dict(type='Pretrained',
                                        checkpoint=pretrained))
        self.backbone = MODELS.build(backbone)
        self.decode_head = MODELS.build(decode_head)
        self.text_encoder = MODELS.build(
            text_encoder) if text_encoder is not None else None
        self.virtual_prompt = MODELS.build(
            virtual_prompt) if virtual_prompt is not None else None
        self.distill_loss = MODELS.build(
            distill_loss) if distill_loss is not None else None
        self.train_cfg = self._merge_cfg(train_cfg, TRAIN_CFG_DEFAULTS,
                                         'train_cfg')
        self.test_cfg = self._merge_cfg(test_cfg, TEST_CFG_DEFAULTS,
                                        'test_cfg')
        self.align_corners = False
        if self.test_cfg.output_shape not in ('img_shape', 'ori_shape'):
            raise ValueError("TextGuidedSegmentor: test_cfg.output_shape "
                             "must be 'img_shape' or 'ori_shape', got "
                             f'{self.test_cfg.output_shape!r}.')
        if self.distill_loss is not None and self.text_encoder is None:
            raise ValueError('TextGuidedSegmentor: distill_loss needs a '
                             'text_encoder for the teacher pass.')
        self.trainable = tuple(trainable) if trainable is not None else None
        if self.trainable is not None:
            self._freeze_all_but(self.trainable)

    def _merge_cfg(self, cfg: OptConfigType, defaults: dict,
                   name: str) -> ConfigDict:
        cfg = dict(cfg or {})
        unknown = sorted(set(cfg) - set(defaults))
        if unknown:
            raise ValueError(f'TextGuidedSegmentor: unknown {name} keys '
                             f'{unknown}; allowed are {sorted(defaults)}.')
        cfg = ConfigDict({**defaults, **cfg})
        if cfg.text_mode not in TEXT_MODES:
            raise ValueError(f'TextGuidedSegmentor: {name}.text_mode must be '
                             f'one of {TEXT_MODES}, got {cfg.text_mode!r}.')
        if cfg.missing_text not in MISSING_TEXT:
            raise ValueError(f'TextGuidedSegmentor: {name}.missing_text must '
                             f'be one of {MISSING_TEXT}, got '
                             f'{cfg.missing_text!r}.')
        needs_encoder = cfg.text_mode in ('text', 'fixed')
        if needs_encoder and self.text_encoder is None:
            raise ValueError(f"TextGuidedSegmentor: {name}.text_mode="
                             f"'{cfg.text_mode}' needs a text_encoder; use "
                             "'none' for a model without one.")
        if (cfg.text_mode == 'virtual' or cfg.missing_text == 'virtual') \
                and self.virtual_prompt is None:
            raise ValueError(f'TextGuidedSegmentor: {name} asks for the '
                             'virtual prompt but the model has no '
                             '`virtual_prompt`.')
        return cfg

    # ------------------------------------------------------------------ #
    # Freezing (the text-absent stage)
    # ------------------------------------------------------------------ #
    def _is_trainable(self, name: str) -> bool:
        return any(
            name == p or name.startswith(p + '.') for p in self.trainable)

    def _freeze_all_but(self, prefixes: Tuple[str, ...]) -> None:
        names = [n for n, _ in self.named_parameters()]
        for prefix in prefixes:
            if not any(n == prefix or n.startswith(prefix + '.')
                       for n in names):
                raise ValueError(
                    f'TextGuidedSegmentor: trainable prefix {prefix!r} '
                    'matches no parameter; e.g. '
                    "('virtual_prompt', 'decode_head.adapters').")
        for name, param in self.named_parameters():
            param.requires_grad_(self._is_trainable(name))

    def train(self, mode: bool = True) -> 'TextGuidedSegmentor':
        super().train(mode)
        if mode and self.trainable is not None:
            for name, module in self.named_modules():
                if name and not self._is_trainable(name):
                    module.eval()
            for name, module in self.named_modules():
                if name and self._is_trainable(name):
                    module.train()
        return self

    # ------------------------------------------------------------------ #
    # Text
    # ------------------------------------------------------------------ #
    def _prompt_rows(self, n: int) -> Tuple[Tensor, Tensor]:
        prompt = self.virtual_prompt(n)
        mask = torch.ones(prompt.shape[:2], dtype=torch.long,
                          device=prompt.device)
        return prompt, mask

    def encode_text(self, metas: List[dict], cfg: ConfigDict
                    ) -> Tuple[Optional[Tensor], Optional[Tensor]]:
        """Text features for a batch under ``cfg`` (train or test cfg).

        Returns:
            tuple: ``(B, L, D)`` features and ``(B, L)`` mask, or
            ``(None, None)`` for ``text_mode='none'``.
        """
        mode, n = cfg.text_mode, len(metas)
        if mode == 'none':
            return None, None
        if mode == 'virtual':
            return self._prompt_rows(n)
        if mode == 'fixed':
            return self.text_encoder([cfg.fixed_text] * n)
        texts = [m.get('text') if m.get('has_text', True) else None
                 for m in metas]
        missing = [i for i, t in enumerate(texts) if not t]
        policy = cfg.missing_text
        if policy == 'auto':
            policy = 'virtual' if self.virtual_prompt is not None \
                else 'empty'
        if missing and policy == 'error':
            names = [metas[i].get('img_path', i) for i in missing[:3]]
            raise ValueError(
                f'TextGuidedSegmentor: {len(missing)} sample(s) have no '
                f'text (e.g. {names}) and missing_text is "error"; set '
                "missing_text to 'virtual' or 'empty'.")
        feats, mask = self.text_encoder([t or '' for t in texts])
        if missing and policy == 'virtual':
            prompt, prompt_mask = self._prompt_rows(len(missing))
            index = torch.tensor(missing, device=feats.device)
            feats = feats.index_copy(0, index, prompt.to(feats.dtype))
            mask = mask.index_copy(0, index, prompt_mask)
        return feats, mask

    def text_guide(self, meta: dict, cfg: ConfigDict) -> str:
        """What guides a sample under ``cfg`` (as :meth:`encode_text`
        decides): ``'report'``, ``'virtual prompt'``, ``'empty sentence'``,
        ``'fixed text'`` or ``'no text'``; written into the metainfo at
        prediction (``text_guide``) for the visualizer."""
        mode = cfg.text_mode
        if mode != 'text':
            return {
                'none': 'no text',
                'virtual': 'virtual prompt',
                'fixed': 'fixed text'
            }[mode]
        if meta.get('text') and meta.get('has_text', True):
            return 'report'
        policy = cfg.missing_text
        if policy == 'auto':
            policy = 'virtual' if self.virtual_prompt is not None \
                else 'empty'
        return 'virtual prompt' if policy == 'virtual' else 'empty sentence'

    # ------------------------------------------------------------------ #
    # Network
    # ------------------------------------------------------------------ #
    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """``(B, 3, H, W)`` -> 4 maps, strides 4 to 32."""
        feats = self.backbone(inputs)
        if len(feats) != 4:
            raise ValueError(
                f'TextGuidedSegmentor: the backbone '
                f'{type(self.backbone).__name__} returned {len(feats)} maps; '
                'the guide decoder needs 4 (out_indices=(0, 1, 2, 3)).')
        return list(feats)

    @staticmethod
    def _metas(data_samples: SampleList) -> List[dict]:
        return [s.metainfo for s in data_samples]

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """``(B, 1, H, W)`` logits under ``test_cfg``'s text mode."""
        feats = self.extract_feat(inputs)
        text, mask = self.encode_text(batch_img_metas, self.test_cfg)
        return self.decode_head(feats, text, mask)['logits']

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        metas = self._metas(data_samples) if data_samples else \
            [dict()] * inputs.shape[0]
        return self.encode_decode(inputs, metas)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Segmentation (+ diversity, + distillation) losses, and the gate
        temperatures as ``gate_tau_k`` figures."""
        feats = self.extract_feat(inputs)
        metas = self._metas(data_samples)
        text, mask = self.encode_text(metas, self.train_cfg)
        out = self.decode_head(feats, text, mask)
        losses = self.decode_head.loss_by_feat(
            out, data_samples, with_diversity=self.train_cfg.with_diversity)
        if self.distill_loss is not None:
            teacher_cfg = ConfigDict(
                self.train_cfg, text_mode='text', missing_text='empty')
            with torch.no_grad():
                t_text, t_mask = self.encode_text(metas, teacher_cfg)
                teacher = self.decode_head(
                    [f.detach() for f in feats], t_text, t_mask,
                    use_adapter=False)
            if not out['fused']:
                raise ValueError('TextGuidedSegmentor: distillation needs '
                                 'fused features; the student ran without '
                                 "text (train_cfg.text_mode='none').")
            losses[self.distill_loss.loss_name] = self.distill_loss(
                out['fused'], teacher['fused'])
        for k, tau in enumerate(self.decode_head.gate_temperatures()):
            losses[f'gate_tau_{k}'] = tau
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Fill ``seg_logits`` (``(1, h, w)`` logits) and ``pred_sem_seg``
        (``(1, h, w)`` 0/1, sigmoid > ``threshold``) at ``img_shape`` (or
        ``ori_shape``), and the metainfo ``text_guide`` (see
        :meth:`text_guide`)."""
        if data_samples is None:
            h, w = inputs.shape[-2:]
            data_samples = [
                SegDataSample(metainfo=dict(img_shape=(h, w),
                                            ori_shape=(h, w)))
                for _ in range(inputs.shape[0])
            ]
        logits = self.encode_decode(inputs, self._metas(data_samples))
        for sample in data_samples:
            sample.set_metainfo(
                dict(text_guide=self.text_guide(sample.metainfo,
                                                self.test_cfg)))
        return self.postprocess_result(logits, data_samples)

    def postprocess_result(self, seg_logits: Tensor,
                           data_samples: SampleList) -> SampleList:
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo.get('img_shape', seg_logits.shape[-2:])
            logit = seg_logits[i:i + 1, :, :h, :w]
            if self.test_cfg.output_shape == 'ori_shape':
                logit = F.interpolate(
                    logit,
                    size=sample.metainfo['ori_shape'],
                    mode='bilinear',
                    align_corners=False)
            logit = logit[0]
            pred = (logit.sigmoid() > self.test_cfg.threshold).long()
            sample.set_data(
                dict(
                    seg_logits=PixelData(data=logit),
                    pred_sem_seg=PixelData(data=pred)))
        return data_samples
