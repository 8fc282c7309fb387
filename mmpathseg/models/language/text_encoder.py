# Copyright (c) mmpathseg contributors. All rights reserved.
"""BERT-family report encoder (CXR-BERT) through transformers, offline."""
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmpathseg.registry import MODELS
from mmpathseg.utils.typing_utils import OptConfigType

# BERT-base with CXR-BERT's vocabulary size and dropout (the configuration
# of microsoft/BiomedVLP-CXR-BERT-specialized), used when no folder is given.
CXR_BERT_CONFIG = dict(
    vocab_size=30522,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    max_position_embeddings=512,
    hidden_dropout_prob=0.25,
    attention_probs_dropout_prob=0.25)


@MODELS.register_module()
class BertTextEncoder(BaseModule):
    """Token features of a BERT-family model, from a local folder.

    CXR-BERT (``microsoft/BiomedVLP-CXR-BERT-specialized``) loads as a plain
    ``BertModel`` + ``BertTokenizer``: its remote ``CXRBertModel`` is a
    ``BertForMaskedLM`` plus a projection head, so the ``bert.*`` weights are
    a BERT encoder and no remote code (which breaks on transformers >= 4.34)
    is needed; ``cls.*`` weights are reported as unused. Download the folder
    once (``config.json``, weights, ``vocab.txt``, ``tokenizer_config.json``)
    and point ``pretrained`` at it; nothing is fetched at run time.

    Texts are tokenised here, not in the data pipeline, so that test-time
    text modes (a fixed sentence, no text) need no pipeline change:
    ``padding='max_length', max_length=24, truncation=True`` as in Ariadne.

    Args:
        pretrained (str, optional): Local model folder. None builds a random
            model from ``bert_config`` (tests, or weights loaded later with
            the whole segmentor).
        tokenizer (str, optional): Local tokenizer folder (``vocab.txt``).
            Defaults to ``pretrained``. Read on the first forward.
        bert_config (dict, optional): ``transformers.BertConfig`` kwargs for
            a random model. Defaults to CXR-BERT's configuration.
        max_length (int): Tokens per text, ``L``. Defaults to 24.
        output_layer (int): Which ``hidden_states`` entry to return.
            Defaults to -1 (the last layer, as Ariadne).
        frozen (bool): No gradients, eval mode. Defaults to True.
        keep_dropout (bool): Keep the frozen model's dropout active in
            training (Ariadne's Lightning module does, by accident: CXR-BERT's
            0.25 dropout then noises the text features). Defaults to False.
        init_cfg (dict, optional): Unused; weights come from ``pretrained``.
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 tokenizer: Optional[str] = None,
                 bert_config: OptConfigType = None,
                 max_length: int = 24,
                 output_layer: int = -1,
                 frozen: bool = True,
                 keep_dropout: bool = False,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import BertConfig, BertModel
        if pretrained is not None:
            self.bert = BertModel.from_pretrained(
                pretrained, add_pooling_layer=False, local_files_only=True)
        else:
            config = BertConfig(**dict(bert_config or CXR_BERT_CONFIG))
            self.bert = BertModel(config, add_pooling_layer=False)
        self.tokenizer_path = tokenizer if tokenizer is not None \
            else pretrained
        self._tokenizer = None
        self.max_length = max_length
        self.output_layer = output_layer
        self.frozen = frozen
        self.keep_dropout = keep_dropout
        if frozen:
            self.bert.requires_grad_(False)
            self.bert.eval()

    @property
    def embed_dims(self) -> int:
        return self.bert.config.hidden_size

    @property
    def tokenizer(self):
        """The ``BertTokenizer`` of ``tokenizer`` (built on first use)."""
        if self._tokenizer is None:
            if self.tokenizer_path is None:
                raise ValueError(
                    'BertTextEncoder: no tokenizer folder; set '
                    '`text_encoder.tokenizer` (or `pretrained`) to a local '
                    'folder with vocab.txt.')
            from transformers import BertTokenizer
            self._tokenizer = BertTokenizer.from_pretrained(
                self.tokenizer_path, local_files_only=True)
        return self._tokenizer

    def init_weights(self) -> None:
        """Keep the loaded (or randomly built) transformers weights: mmengine
        must not re-initialise them."""
        self._is_init = True

    def train(self, mode: bool = True) -> 'BertTextEncoder':
        super().train(mode)
        if self.frozen and not self.keep_dropout:
            self.bert.eval()
        return self

    def tokenize(self, texts: Sequence[str]) -> Tuple[Tensor, Tensor]:
        """``B`` strings -> ``(B, L)`` input ids and attention mask."""
        tokens = self.tokenizer(
            list(texts),
            padding='max_length',
            max_length=self.max_length,
            truncation=True,
            return_tensors='pt')
        return tokens['input_ids'], tokens['attention_mask']

    def forward(self, texts: List[str]) -> Tuple[Tensor, Tensor]:
        """``B`` strings -> ``(B, L, D)`` token features and ``(B, L)``
        attention mask (1 for real tokens)."""
        ids, mask = self.tokenize(texts)
        device = next(self.bert.parameters()).device
        ids, mask = ids.to(device), mask.to(device)
        with torch.set_grad_enabled(torch.is_grad_enabled() and
                                    not self.frozen):
            out = self.bert(
                input_ids=ids, attention_mask=mask,
                output_hidden_states=True)
        return out.hidden_states[self.output_layer], mask
