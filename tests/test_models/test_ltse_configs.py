# Copyright (c) mmpathseg contributors. All rights reserved.
"""The full-size LISA/GSVA/LTSE configs carry the papers' settings and stop
with a clear message where DeepSpeed is needed but missing."""
import importlib.util

import pytest
from mmengine.config import Config

CONFIGS = {
    'configs/ltse/llava-7b_bcss-ref.py': ('AdaptiveExpertMixture', True, 10),
    'configs/ltse/llava-7b_bcss-ref-20x.py': ('AdaptiveExpertMixture', True,
                                              10),
    'configs/ltse/llava-7b_bcss-ref-40x.py': ('AdaptiveExpertMixture', True,
                                              10),
    'configs/ltse/llava-7b-wo-aem_bcss-ref.py': ('SAMExpertDecoder', True,
                                                 10),
    'configs/gsva/llava-7b_bcss-ref.py': ('SAMExpertDecoder', True, 10),
    'configs/lisa/llava-7b_bcss-ref.py': ('SAMExpertDecoder', False, 1),
}


@pytest.mark.parametrize('path', sorted(CONFIGS))
def test_full_size_settings(repo_root, path):
    decoder, use_rej, num_seg = CONFIGS[path]
    cfg = Config.fromfile(str(repo_root / path))
    model = cfg.model
    assert model.mask_decoder.type == decoder
    if decoder == 'AdaptiveExpertMixture':
        assert model.mask_decoder.num_experts == 4
        assert model.mask_decoder.gate.top_k == 2
    tok = model.mllm.tokenizer
    assert tok.use_rej is use_rej and tok.num_seg_tokens == num_seg
    # the pipeline builds answers with the model's tokenizer
    for loader in ('train_dataloader', 'test_dataloader'):
        conv = cfg[loader].dataset.pipeline[2]
        assert conv.type == 'BuildReferringConversation'
        assert conv.tokenizer == tok and conv.num_image_tokens == 256
    assert cfg.train_dataloader.dataset.get('split_targets', False) is (
        not use_rej)
    assert model.image_encoder.arch == 'vit-h' and model.image_encoder.frozen
    assert model.mllm.lora.r == 8 and model.mllm.lora.lora_alpha == 16
    assert model.loss_weights == dict(ce=1.0, bce=2.0, dice=0.5)
    # DeepSpeed: ZeRO-2, bf16, batch 2 x accumulation 10, AdamW 3e-4,
    # WarmupDecayLR 100 / 5000 optimizer steps
    assert cfg.runner_type == 'FlexibleRunner'
    strategy = cfg.strategy
    assert strategy.type == 'DeepSpeedStrategy'
    assert strategy.zero_optimization.stage == 2
    assert strategy.bf16.enabled and strategy.gradient_accumulation_steps == 10
    assert cfg.train_dataloader.batch_size == 2
    sched = strategy.config.scheduler
    assert sched.type == 'WarmupDecayLR'
    assert sched.params.warmup_num_steps == 100
    assert sched.params.total_num_steps * 10 == cfg.train_cfg.max_iters
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 3e-4, 0.0)
    assert 'param_scheduler' not in cfg or not cfg.param_scheduler
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'


@pytest.mark.skipif(
    importlib.util.find_spec('deepspeed') is not None,
    reason='DeepSpeed is installed: the missing-DeepSpeed path is not taken')
def test_without_deepspeed_the_runner_says_so(repo_root, tmp_path):
    from mmengine.runner._flexible_runner import FlexibleRunner
    cfg = Config.fromfile(str(repo_root / 'configs/ltse/llava-7b_bcss-ref.py'))
    cfg.work_dir = str(tmp_path)
    with pytest.raises(AssertionError, match='DeepSpeed is not installed'):
        FlexibleRunner.from_cfg(cfg)
