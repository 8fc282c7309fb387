# Copyright (c) mmpathseg contributors. All rights reserved.
"""Analyse the [SEG]/[REJ] decisions of a referring model (GSVA, LTSE).

    python tools/analysis_tools/referring_slot_decisions.py CONFIG \
        [--checkpoint CKPT] [--split val|train] [--limit N] [--seed 0] \
        [--out summary.json]

Teacher-forced, as the GSVA evaluation: for every answer slot the margin
``logit([SEG]) - logit([REJ])`` at the position that predicts the slot is
computed (> 0 = accept). It prints N-Acc / T-Acc at the model's own
threshold (0), the AUC of the margin (absent vs present targets: how well
the decision separates the two at *any* threshold, i.e. whether a miss is a
bias or a lack of evidence), the best N-Acc + T-Acc over thresholds, and
N-Acc / T-Acc per tissue phrase, per slot index and per (number of
targets / slot index) of the expression: in the generated demo a one-target
expression is absent half of the time, so only the image can decide it, and
equal N-Acc / T-Acc splits there mean decisions made from the text alone.
Without ``--checkpoint``
the model is the untrained one (``init_weights`` with ``--seed``).
"""
import argparse
import json
from collections import defaultdict

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from mmpathseg.models.language.seg_token_utils import slot_positions
from mmpathseg.registry import DATASETS, MODELS
from mmpathseg.utils.checkpoint import setup_checkpoint_io


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties count half."""
    if not len(pos) or not len(neg):
        return float('nan')
    greater = (pos[:, None] > neg[None]).mean()
    ties = (pos[:, None] == neg[None]).mean()
    return float(greater + 0.5 * ties)


def best_sum(margins: np.ndarray, absent: np.ndarray) -> tuple:
    """Best N-Acc + T-Acc (percent) over thresholds on the margin."""
    best = (0.0, 0.0)
    for t in np.concatenate([[-np.inf], np.sort(margins)]):
        n_acc = (margins[absent] <= t).mean() * 100
        t_acc = (margins[~absent] > t).mean() * 100
        if n_acc + t_acc > sum(best):
            best = (n_acc, t_acc)
    return best


@torch.no_grad()
def slot_margins(model, dataset, limit=None, batch_size=10):
    """One record per answer slot: margin, absent, phrase, slot index and
    ``image_change``: the relative change of the state that predicts the
    slot when the sample's image is swapped for another one of the batch
    (the batch reversed; the generated demo has five expressions per tile,
    so with ``batch_size=10`` every sample gets a different tile). Near 0
    means the decision cannot depend on the image."""
    mllm = model.mllm
    seg = torch.as_tensor(list(mllm.seg_ids))
    records = []
    n = len(dataset) if limit is None else min(limit, len(dataset))
    for start in range(0, n, batch_size):
        batch = pseudo_collate(
            [dataset[i] for i in range(start, min(n, start + batch_size))])
        data = model.data_preprocessor(batch, False)
        inputs, samples = data['inputs'], data['data_samples']
        ids = inputs['input_ids']
        out = mllm(inputs['clip'], ids, inputs['attention_mask'])
        logits, hidden = out['logits'], out['hidden']
        swapped = mllm(inputs['clip'].flip(0), ids,
                       inputs['attention_mask'])['hidden']
        for b, pos in enumerate(slot_positions(ids, model.slot_ids)):
            pred = logits[b, pos - 1].float()
            margin = pred[:, seg].max(-1)[0] - pred[:, mllm.rej_id]
            change = (swapped[b, pos - 1] - hidden[b, pos - 1]).norm(
                dim=-1) / hidden[b, pos - 1].norm(dim=-1)
            phrases = samples[b].metainfo['phrases']
            for j, p in enumerate(pos.tolist()):
                records.append(
                    dict(
                        margin=float(margin[j]),
                        absent=bool(samples[b].gt_empty[j]),
                        phrase=phrases[j],
                        slot=j,
                        n_targets=len(phrases),
                        targets_slot=f'{len(phrases)}/{j}',
                        image_change=float(change[j])))
    return records


def summarise(records) -> dict:
    m = np.array([r['margin'] for r in records])
    a = np.array([r['absent'] for r in records])
    n_acc = float((m[a] <= 0).mean() * 100) if a.any() else float('nan')
    t_acc = float((m[~a] > 0).mean() * 100) if (~a).any() else float('nan')
    best = best_sum(m, a)
    out = dict(
        slots=len(m), absent=int(a.sum()), n_acc=round(n_acc, 2),
        t_acc=round(t_acc, 2), auc=round(auc(-m[a], -m[~a]), 4),
        best_n_acc=round(best[0], 2), best_t_acc=round(best[1], 2),
        margin_absent=round(float(m[a].mean()), 3) if a.any() else None,
        margin_present=round(float(m[~a].mean()), 3),
        image_change=round(
            float(np.mean([r['image_change'] for r in records])), 4))
    for key in ('phrase', 'slot', 'targets_slot'):
        groups = defaultdict(list)
        for r in records:
            groups[r[key]].append(r)
        out[f'by_{key}'] = {
            str(k): dict(
                absent=sum(r['absent'] for r in g),
                n_acc=round(100 * np.mean(
                    [r['margin'] <= 0 for r in g if r['absent']]), 1)
                if any(r['absent'] for r in g) else None,
                t_acc=round(100 * np.mean(
                    [r['margin'] > 0 for r in g if not r['absent']]), 1)
                if any(not r['absent'] for r in g) else None)
            for k, g in sorted(groups.items())
        }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint')
    parser.add_argument('--split', default='val', choices=['val', 'train'])
    parser.add_argument('--limit', type=int, help='first N samples only')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='also write the summary here (json)')
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpathseg'))
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    if not model.use_rej:
        raise SystemExit(f'{args.config}: the model has no [REJ] token '
                         '(LISA); nothing to analyse.')
    if args.checkpoint:
        setup_checkpoint_io()  # weights-only loads of mmengine checkpoints
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    else:
        model.init_weights()
    model.eval()
    loader = cfg.val_dataloader if args.split == 'val' else \
        cfg.train_dataloader
    ds_cfg = loader.dataset
    if args.split == 'train':  # evaluation templates, no randomness
        ds_cfg.pipeline = cfg.val_dataloader.dataset.pipeline
        ds_cfg.test_mode = True
    dataset = DATASETS.build(ds_cfg)
    summary = summarise(slot_margins(model, dataset, args.limit))
    print(json.dumps(summary, indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(summary, f, indent=1)
    return summary


if __name__ == '__main__':
    main()
