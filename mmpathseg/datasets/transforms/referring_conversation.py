# Copyright (c) mmpathseg contributors. All rights reserved.
"""Build the question/answer of a referring sample and tokenise it.

The answer is made at load time from the ordered targets (GSVA style)::

    "Sure, tumor:[SEG], necrosis:[REJ]."

and templated as a LLaVA-v1 conversation::

    "{system} USER: <image>\\n{question} ASSISTANT: {answer}</s>"

``<image>`` becomes ``num_image_tokens`` image tokens (transformers' LLaVA
needs one per image feature). Labels are -100 on the prompt and the image.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmpathseg.registry import TRANSFORMS

__all__ = ['BuildReferringConversation', 'build_answer']

LLAVA_V1_SYSTEM = (
    'A chat between a curious human and an artificial intelligence '
    'assistant. The assistant gives helpful, detailed, and polite answers '
    "to the human's questions.")
DEFAULT_QUESTIONS = (
    'Can you segment {expression} in this image?',
    'Please segment {expression} in this image.',
    'What are {expression} in this image? Please respond with '
    'segmentation masks.',
    'What are {expression} in this image? Please output segmentation '
    'masks.',
)
# (start, item) pairs; the answer is start + ' ' + ', '.join(items) + end.
DEFAULT_ANSWERS = (
    ('Sure,', '{phrase}:{token}'),
    ('Sure, they are', '{phrase}:{token}'),
    ('The segmentation results are', '{phrase} {token}'),
    ('Sure,', 'the mask of {phrase} is {token}'),
)


def build_answer(phrases: Sequence[str],
                 empty: Sequence[bool],
                 start: str = 'Sure,',
                 item: str = '{phrase}:{token}',
                 end: str = '.',
                 use_rej: bool = True,
                 distinct_seg_tokens: bool = False) -> str:
    """The answer text for ordered targets.

    Target ``j`` gets ``[REJ]`` when it is empty and ``use_rej``, else
    ``[SEG]`` (or ``[SEGj]`` with ``distinct_seg_tokens``). Without
    ``use_rej`` an empty target still gets a [SEG] (its mask target is all
    zeros): the model cannot say "absent", as LISA.
    """
    items = []
    for j, (phrase, is_empty) in enumerate(zip(phrases, empty)):
        if is_empty and use_rej:
            token = '[REJ]'
        else:
            token = f'[SEG{j}]' if distinct_seg_tokens else '[SEG]'
        items.append(item.format(phrase=phrase, token=token))
    return f'{start} {", ".join(items)}{end}'


@TRANSFORMS.register_module()
class BuildReferringConversation(BaseTransform):
    """Question + answer + tokens for one referring sample.

    Args:
        tokenizer (dict): Tokenizer config (see
            :func:`mmpathseg.models.language.build_referring_tokenizer`),
            the same dict as the model's.
        num_image_tokens (int): Image features the vision tower gives
            (CLIP-L/14 at 224 px: 256).
        questions (Sequence[str]): Templates with ``{expression}``.
        answers (Sequence[tuple]): ``(start, item)`` pairs, ``item`` with
            ``{phrase}`` and ``{token}``.
        random_template (bool): Draw templates at random (training); else
            use the first ones (evaluation). Defaults to False.
        system (str): System prompt. Defaults to LLaVA-v1's.
        max_length (int): Longer sequences raise (truncating would drop
            answer slots). Defaults to 512.

    Added keys: ``question``, ``answer``, ``input_ids`` ``(L,)`` int64,
    ``labels`` ``(L,)`` int64, ``prompt_length`` (int).
    """

    def __init__(self,
                 tokenizer: dict,
                 num_image_tokens: int,
                 questions: Sequence[str] = DEFAULT_QUESTIONS,
                 answers: Sequence[Tuple[str, str]] = DEFAULT_ANSWERS,
                 random_template: bool = False,
                 system: str = LLAVA_V1_SYSTEM,
                 max_length: int = 512):
        from mmpathseg.models.language.tokenizer import (
            build_referring_tokenizer, task_token_ids)
        self.tokenizer_cfg = dict(tokenizer)
        self.tokenizer = build_referring_tokenizer(tokenizer)
        self.ids = task_token_ids(self.tokenizer, self.tokenizer_cfg)
        self.use_rej = self.tokenizer_cfg.get('use_rej', False)
        self.distinct = self.tokenizer_cfg.get('distinct_seg_tokens', False)
        self.num_seg_tokens = self.tokenizer_cfg.get('num_seg_tokens', 1)
        self.num_image_tokens = num_image_tokens
        self.questions = tuple(questions)
        self.answers = tuple(tuple(a) for a in answers)
        self.random_template = random_template
        self.system = system
        self.max_length = max_length

    def _encode(self, text: str):
        return self.tokenizer.encode(text, add_special_tokens=False)

    def _pick(self, choices):
        if self.random_template:
            return choices[np.random.randint(len(choices))]
        return choices[0]

    def transform(self, results: dict) -> dict:
        targets = results['targets']
        empty = results.get('gt_empty')
        if empty is None:
            empty = [bool(t['empty']) for t in targets]
        n_seg = len(targets) if not self.use_rej else int(
            sum(not e for e in empty))
        # Distinct tokens are numbered by slot, a shared one by [SEG] count.
        needed = len(targets) if self.distinct else n_seg
        if needed > self.num_seg_tokens:
            raise ValueError(
                f'{results.get("img_path")} ref {results.get("ref_id")}: '
                f'needs {needed} [SEG] slots but num_seg_tokens (M) is '
                f'{self.num_seg_tokens}; raise M, or for one [SEG] per '
                'conversation (LISA) use split_targets=True in the dataset.')
        question = self._pick(self.questions).format(
            expression=results['expression'])
        start, item = self._pick(self.answers)
        answer = build_answer([t['phrase'] for t in targets], empty, start,
                              item, '.', self.use_rej, self.distinct)
        before = f'{self.system} USER: '
        after = f'\n{question} ASSISTANT:'
        prompt = [self.ids['bos']] if self.ids['bos'] is not None else []
        prompt += self._encode(before) + [self.ids['image']] * \
            self.num_image_tokens + self._encode(after)
        reply = self._encode(' ' + answer) + [self.ids['eos']]
        if len(prompt) + len(reply) > self.max_length:
            raise ValueError(
                f'{results.get("img_path")} ref {results.get("ref_id")}: '
                f'{len(prompt) + len(reply)} tokens exceed max_length='
                f'{self.max_length}; raise it or shorten the expression.')
        input_ids = np.array(prompt + reply, np.int64)
        labels = input_ids.copy()
        labels[:len(prompt)] = -100
        results.update(
            question=question,
            answer=answer,
            input_ids=input_ids,
            labels=labels,
            prompt_length=len(prompt))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_image_tokens='
                f'{self.num_image_tokens}, use_rej={self.use_rej}, '
                f'random_template={self.random_template})')
