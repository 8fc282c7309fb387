# Copyright (c) mmpathseg contributors. All rights reserved.
"""DSC after every click of the sequential-click test of a promptable model,
with the mask prompt fed back as configured, left out, or replaced by the
ground truth (an oracle).

    python tools/analysis_tools/click_curve.py CONFIG CHECKPOINT
        [--clicks 5] [--variants previous none oracle]
        [--cfg-options k=v ...]

``CHECKPOINT`` may be ``none`` (the config's initial weights, seeded by
``randomness.seed``). The clicks are those of ``PromptableSegmentor``'s test
loop (the first from the pipeline, then one error click per round,
accumulated, seeded by ``test_cfg.seed``), so the ``previous`` curve is what
``tools/test.py`` reports for ``model.test_cfg.points=[1,2,...]``. What the
variants tell:

- ``previous``: the previous round's prediction is the mask prompt
  (``test_cfg.mask_prompt``, as the model is tested);
- ``none``: no mask prompt; only the clicks carry the earlier rounds;
- ``oracle``: the ground-truth mask is the mask prompt (probabilities 0/1 or
  logits +-10, by ``test_cfg.mask_prompt``). A model that reads its mask
  prompt must score higher than with ``previous``; the same numbers as
  ``previous`` mean the mask prompt is ignored (issue #5).

DSC (%) is per mask at the original size, averaged over masks
(``PromptDiceMetric``'s default).
"""
import argparse
from typing import Dict, Iterable, List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

from mmpathseg.evaluation.metrics.prompt_dice_metric import mask_dice

VARIANTS = ('previous', 'none', 'oracle')
ORACLE_LOGIT = 10.


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-click DSC of a promptable model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file, or "none"')
    parser.add_argument('--clicks', type=int, default=5,
                        help='clicks per mask (the first + error clicks)')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=VARIANTS, help='mask prompts to compare')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, `key=value` pairs')
    return parser.parse_args(argv)


def _oracle_prompt(model, gt: torch.Tensor) -> torch.Tensor:
    """``(M, H, W)`` bool ground truth -> ``(M, 1, 4h, 4w)`` mask prompt."""
    mask = F.interpolate(
        gt[:, None].float(), size=model.prompt_encoder.mask_input_size,
        mode='bilinear', align_corners=False)
    if model.test_cfg.mask_prompt == 'prob':
        return mask
    return (2 * mask - 1) * ORACLE_LOGIT


@torch.no_grad()
def click_predictions(model, inputs: torch.Tensor, data_samples: list,
                      num_clicks: int,
                      variant: str = 'previous') -> List[List[torch.Tensor]]:
    """Predictions after each of ``num_clicks`` sequential clicks.

    Args:
        model (PromptableSegmentor): In eval mode.
        inputs (Tensor): ``(B, 3, H, W)`` preprocessed images.
        data_samples (list): Their samples (``gt_masks``, ``gt_points``).
        num_clicks (int): Clicks per mask.
        variant (str): Mask prompt of rounds 2.., one of ``VARIANTS``.

    Returns:
        list: per click, per sample ``(K, H0, W0)`` bool masks.
    """
    if variant not in VARIANTS:
        raise ValueError(f'click_curve: variant must be one of {VARIANTS}, '
                         f'got {variant!r}.')
    size = tuple(inputs.shape[-2:])
    embedding, hq = model.extract_feat(inputs)
    batch = model._gather(inputs, data_samples)
    emb_m = embedding[batch['index']]
    hq_m = hq[batch['index']] if hq is not None else None
    # The same generators as PromptableSegmentor.predict_modes: same clicks.
    generators = model.click_generators(data_samples)
    coords, labels = batch['points']
    points = (coords[:, :1], labels[:, :1])
    logits, masks, out = None, None, []
    for click in range(1, num_clicks + 1):
        if click > 1:
            new = model.test_clicks(logits, batch, size, generators)
            points = (torch.cat([points[0], new[0]], 1),
                      torch.cat([points[1], new[1]], 1))
            if variant == 'previous':
                masks = model._mask_prompt(logits, model.test_cfg.mask_prompt)
            elif variant == 'oracle':
                masks = _oracle_prompt(model, batch['gt'])
        logits, _ = model.decode(emb_m, hq_m, points=points, masks=masks)
        out.append(model._restore(logits, batch, size, data_samples))
    return out


def click_curves(model, batches: Iterable[dict], num_clicks: int,
                 variants: Sequence[str] = VARIANTS
                 ) -> Dict[str, List[float]]:
    """Mean per-mask DSC (%) after each click, by variant.

    ``batches`` are dataloader outputs (``inputs``, ``data_samples`` with
    ``ori_gt_masks``); they go through the model's data preprocessor.
    """
    dice = {v: [[] for _ in range(num_clicks)] for v in variants}
    for data in batches:
        data = model.data_preprocessor(data, False)
        samples = data['data_samples']
        for variant in variants:
            per_click = click_predictions(model, data['inputs'], samples,
                                          num_clicks, variant)
            for k, preds in enumerate(per_click):
                for sample, pred in zip(samples, preds):
                    dice[variant][k].append(mask_dice(
                        pred.cpu().numpy(),
                        sample.ori_gt_masks.cpu().numpy().astype(bool)))
    return {v: [float(np.concatenate(d).mean() * 100) for d in curve]
            for v, curve in dice.items()}


def main(argv=None) -> Dict[str, List[float]]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    from mmpathseg.registry import MODELS
    from mmpathseg.utils.checkpoint import setup_checkpoint_io
    setup_checkpoint_io()
    torch.manual_seed(int(cfg.get('randomness', {}).get('seed', 0) or 0))
    model = MODELS.build(cfg.model)
    if args.checkpoint.lower() == 'none':
        model.init_weights()
    else:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    loader = Runner.build_dataloader(
        dict(cfg.test_dataloader, num_workers=0, persistent_workers=False))
    curves = click_curves(model, loader, args.clicks, args.variants)
    header = '| mask prompt | ' + ' | '.join(
        f'{k} pt' for k in range(1, args.clicks + 1)) + ' |'
    print(header)
    print('|---|' + '---:|' * args.clicks)
    for variant, curve in curves.items():
        print(f'| {variant} | ' + ' | '.join(f'{v:.1f}' for v in curve) +
              ' |')
    return curves


if __name__ == '__main__':
    main()
