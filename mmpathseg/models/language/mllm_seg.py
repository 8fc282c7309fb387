# Copyright (c) mmpathseg contributors. All rights reserved.
"""A LLaVA that emits [SEG]/[REJ] tokens, with LoRA, and a projector of the
[SEG] hidden states into SAM's prompt space (LISA, GSVA, LTSE)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptConfigType, OptMultiConfig
from .seg_token_utils import gather_slot_states
from .tokenizer import build_referring_tokenizer, task_token_ids

__all__ = ['LlavaSegMLLM']

LORA_DEFAULT = dict(
    r=8,
    lora_alpha=16,
    lora_dropout=0.05,
    # q/v of the language model only: CLIP has q_proj/v_proj too.
    target_modules=r'.*language_model.*\.(q_proj|v_proj)')


def _build_llava(cfg: dict, image_token_id: int):
    from transformers import LlavaConfig, LlavaForConditionalGeneration
    cfg = dict(cfg)
    pretrained = cfg.pop('pretrained', None)
    dtype = cfg.pop('torch_dtype', None)
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    arch = cfg.pop('config', None)
    if cfg:
        raise KeyError(f'LlavaSegMLLM: unknown llava keys {sorted(cfg)}; use '
                       '"pretrained", "config", "torch_dtype".')
    if pretrained is not None:
        if not osp.isdir(pretrained):
            raise FileNotFoundError(
                f'LlavaSegMLLM: llava.pretrained={pretrained!r} is not a '
                'folder. Put a transformers-format LLaVA there (see '
                'configs/ltse/README.md); hub names are never downloaded.')
        model = LlavaForConditionalGeneration.from_pretrained(
            pretrained, local_files_only=True, torch_dtype=dtype)
        if model.config.image_token_index != image_token_id:
            raise ValueError(
                f'LlavaSegMLLM: {pretrained} uses image token id '
                f'{model.config.image_token_index} but the tokenizer gives '
                f'{image_token_id}; point the tokenizer at the same folder.')
        return model
    if arch is None:
        raise KeyError('LlavaSegMLLM: llava needs "pretrained" (a local '
                       'folder) or "config" (LlavaConfig kwargs).')
    arch = dict(arch)
    arch['image_token_index'] = image_token_id
    config = LlavaConfig(**arch)
    model = LlavaForConditionalGeneration(config)
    return model.to(dtype) if dtype is not None else model


@MODELS.register_module()
class LlavaSegMLLM(BaseModule):
    """transformers' ``LlavaForConditionalGeneration`` with task tokens.

    * The tokenizer (:func:`build_referring_tokenizer`) adds up to M [SEG]
      tokens and optionally [REJ]; their ids are looked up and checked, never
      assumed; the embeddings and ``lm_head`` are resized to the tokenizer.
    * LoRA (peft) on the language model's ``q_proj``/``v_proj``; the whole
      ``embed_tokens`` and ``lm_head`` train (peft ``modules_to_save``, as
      LISA); the vision tower and multimodal projector are frozen.
    * ``projector``: Linear(D, D) - ReLU - Linear(D, out_channels) - Dropout(0)
      maps the hidden state that predicts each [SEG] into SAM's prompt space.

    Args:
        llava (dict): ``pretrained`` (local folder) or ``config``
            (``LlavaConfig`` kwargs, e.g. ``text_config=dict(model_type=
            'llama', ...)``), optional ``torch_dtype``.
        tokenizer (dict): Tokenizer config, shared with the pipeline.
        out_channels (int): SAM prompt width. Defaults to 256.
        lora (dict, optional): ``r``, ``lora_alpha``, ``lora_dropout``,
            ``target_modules``; None freezes the language model except its
            embeddings and head.
        gradient_checkpointing (bool): Defaults to False.
        train_mm_projector (bool): Also train LLaVA's multimodal projector
            (LISA/GSVA keep it frozen; the tiny random demo models train it,
            as their projector starts untrained). Defaults to False.
        train_vision_tower (bool): Also train the CLIP tower (random tiny
            demo models only). Defaults to False.
        train_language_model (bool): Also train every weight of the
            language model, not only LoRA, embeddings and head (random tiny
            demo models only: a frozen *random* LLM is a fixed random map
            between the image tokens and the state that predicts each
            [SEG]/[REJ], and LoRA on q/v alone learns the image-dependent
            decision slowly). Peft's frozen copies of ``embed_tokens`` /
            ``lm_head`` (``original_module``) stay frozen. Defaults to
            False.
    """

    def __init__(self,
                 llava: dict,
                 tokenizer: dict,
                 out_channels: int = 256,
                 lora: OptConfigType = LORA_DEFAULT,
                 gradient_checkpointing: bool = False,
                 train_mm_projector: bool = False,
                 train_vision_tower: bool = False,
                 train_language_model: bool = False,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self.tokenizer_cfg = dict(tokenizer)
        self.tokenizer = build_referring_tokenizer(tokenizer)
        ids = task_token_ids(self.tokenizer, self.tokenizer_cfg)
        self.seg_ids: List[int] = ids['seg']
        self.rej_id: Optional[int] = ids['rej']
        self.image_token_id: int = ids['image']
        self.pad_token_id: int = ids['pad']
        self.eos_token_id: int = ids['eos']
        model = _build_llava(llava, self.image_token_id)
        model.resize_token_embeddings(len(self.tokenizer), mean_resizing=False)
        for param in model.parameters():
            param.requires_grad_(False)
        if lora is not None:
            from peft import LoraConfig, get_peft_model
            lora = {**LORA_DEFAULT, **lora}
            model = get_peft_model(
                model,
                LoraConfig(
                    r=lora['r'],
                    lora_alpha=lora['lora_alpha'],
                    lora_dropout=lora['lora_dropout'],
                    bias='none',
                    target_modules=lora['target_modules'],
                    modules_to_save=['embed_tokens', 'lm_head']))
        else:
            model.get_input_embeddings().weight.requires_grad_(True)
            model.get_output_embeddings().weight.requires_grad_(True)
        self.llava = model
        extra = []
        if train_mm_projector:
            extra.append(self.base.multi_modal_projector)
        if train_vision_tower:
            extra.append(self.base.vision_tower)
        for module in extra:
            for param in module.parameters():
                param.requires_grad_(True)
        if train_language_model:
            for name, param in self.base.language_model.named_parameters():
                if 'original_module' not in name:
                    param.requires_grad_(True)
        if gradient_checkpointing:
            self.base.gradient_checkpointing_enable()
            self.base.enable_input_require_grads()
        hidden = self.base.config.text_config.hidden_size
        self.hidden_size = hidden
        self.projector = nn.Sequential(
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, out_channels), nn.Dropout(0.0))
        vision = self.base.config.vision_config
        grid = (vision.image_size // vision.patch_size)**2
        extra = 1 if self.base.config.vision_feature_select_strategy == \
            'full' else 0
        self.num_image_tokens = grid + extra
        self.image_size = vision.image_size

    @property
    def base(self):
        """The (LoRA-injected) ``LlavaForConditionalGeneration``."""
        llava = self.llava
        return llava.get_base_model() if hasattr(llava,
                                                 'get_base_model') else llava

    def forward(self,
                pixel_values: Tensor,
                input_ids: Tensor,
                attention_mask: Tensor,
                labels: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """
        Args:
            pixel_values (Tensor): ``(B, 3, S, S)`` CLIP-normalised images.
            input_ids (Tensor): ``(B, L)`` with ``num_image_tokens`` image
                tokens each.
            attention_mask (Tensor): ``(B, L)``.
            labels (Tensor, optional): ``(B, L)``, -100 = not supervised.

        Returns:
            dict: ``loss`` (token CE, when labels are given), ``logits``
            ``(B, L, V)``, ``hidden`` ``(B, L, D)`` last-layer states.
        """
        n_image = (input_ids == self.image_token_id).sum(1)
        if bool((n_image != self.num_image_tokens).any()):
            raise ValueError(
                f'LlavaSegMLLM: sequences hold {n_image.tolist()} image '
                f'tokens but the vision tower gives {self.num_image_tokens}; '
                'set num_image_tokens of BuildReferringConversation to '
                f'{self.num_image_tokens}.')
        out = self.base(
            input_ids=input_ids,
            attention_mask=attention_mask,
            pixel_values=pixel_values,
            labels=labels,
            output_hidden_states=True,
            use_cache=False,
            return_dict=True)
        return dict(
            loss=out.loss, logits=out.logits, hidden=out.hidden_states[-1])

    def seg_prompts(self, hidden: Tensor,
                    input_ids: Tensor) -> List[Tensor]:
        """Projected states that predict each [SEG]: list of ``(n_b, C)``."""
        states, _ = gather_slot_states(hidden, input_ids, self.seg_ids)
        return [self.projector(s) for s in states]

    @torch.no_grad()
    def generate(self, pixel_values: Tensor, input_ids: Tensor,
                 max_new_tokens: int = 32) -> Tensor:
        """Greedy answer for one prompt ``(1, Lp)``; returns the full
        ``(1, Lp + n)`` sequence (prompt included).

        The image, pad and BOS tokens are never generated: an image token in
        the answer would not match the image features in the re-forward
        that gathers the [SEG] states (an untrained model otherwise emits
        them)."""
        suppress = sorted({
            t for t in (self.image_token_id, self.pad_token_id,
                        self.tokenizer.bos_token_id) if t is not None
        } - {self.eos_token_id})
        out = self.base.generate(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            pixel_values=pixel_values,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=self.eos_token_id,
            pad_token_id=self.pad_token_id,
            suppress_tokens=suppress)
        return out if isinstance(out, Tensor) else out.sequences
