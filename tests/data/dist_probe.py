# Copyright (c) mmpathseg contributors. All rights reserved.
"""Probes for multi-process tests, loaded with ``custom_imports``.

``DistProbeHook`` writes what each rank saw to ``out_dir/rank{R}.json``;
``DistProbeMetric`` reports how many samples the evaluator gathered over all
ranks. Both are test fixtures, not part of the package.
"""
import hashlib
import json
import os.path as osp
from typing import Optional, Sequence

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_dist_info
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpathseg.registry import HOOKS, METRICS


def _img_names(data_batch) -> list:
    return [
        osp.basename(sample.metainfo['img_path'])
        for sample in data_batch['data_samples']
    ]


@HOOKS.register_module()
class DistProbeHook(Hook):
    """Record, per rank, the wrapper, the samples and a parameter digest.

    Args:
        out_dir (str): Folder for ``rank{R}.json``; keep it outside the work
            dir, which must hold rank 0's files only.
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.record = dict(iters=[], val=[])

    def before_run(self, runner) -> None:
        rank, world_size = get_dist_info()
        self.record.update(
            rank=rank,
            world_size=world_size,
            backend=(torch_dist.get_backend()
                     if torch_dist.is_initialized() else None))

    def _describe_model(self, runner) -> None:
        # FlexibleRunner wraps the model in train()/test(), after before_run.
        model = runner.model
        self.record.update(
            wrapper=type(model).__name__ if is_model_wrapper(model) else None,
            num_sync_bn=sum(
                type(m).__name__ == 'SyncBatchNorm' for m in model.modules()),
            device_ids=getattr(model, 'device_ids', None))

    def before_train(self, runner) -> None:
        self._describe_model(runner)

    def before_test(self, runner) -> None:
        self._describe_model(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        params = [
            p.detach().double().flatten() for p in runner.model.parameters()
        ]
        flat = torch.cat(params)
        self.record['iters'].append(
            dict(
                iter=runner.iter,
                samples=_img_names(data_batch),
                loss=float(outputs['loss'].detach()),
                param_sum=float(flat.sum()),
                param_sha1=hashlib.sha1(flat.numpy().tobytes()).hexdigest()))

    def after_val_epoch(self, runner, metrics=None) -> None:
        # Plain numbers for json (mmseg's metrics are numpy scalars).
        self.record['val'].append({
            k: float(v)
            for k, v in (metrics or {}).items()
        })

    def after_test_epoch(self, runner, metrics=None) -> None:
        self.record['test'] = {k: float(v) for k, v in (metrics or {}).items()}

    def after_run(self, runner) -> None:
        with open(
                osp.join(self.out_dir, f'rank{self.record["rank"]}.json'),
                'w') as f:
            json.dump(self.record, f, indent=1)


@METRICS.register_module()
class DistProbeMetric(BaseMetric):
    """Count the samples that reach ``compute_metrics`` after gathering.

    Each processed sample carries the rank that saw it, so the gathered list
    shows how the evaluator merged the shards.
    """

    default_prefix = 'probe'

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        rank, _ = get_dist_info()
        for sample in data_samples:
            self.results.append(
                dict(img=osp.basename(sample['img_path']), rank=rank))

    def compute_metrics(self, results: list) -> dict:
        return dict(
            num_samples=len(results),
            num_unique=len({r['img']
                            for r in results}),
            from_rank0=sum(r['rank'] == 0 for r in results),
            from_rank1=sum(r['rank'] == 1 for r in results))
