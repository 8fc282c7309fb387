# Copyright (c) mmpathseg contributors. All rights reserved.
"""mmpathseg provides 21 registry nodes to support using modules across
projects. Each node is a child of the matching mmsegmentation node, so a config
with ``default_scope='mmpathseg'`` resolves mmpathseg types first and falls
back to mmseg types unprefixed (``type='FCNHead'``); sibling packages resolve
with a scope prefix (``type='mmpretrain.ConvNeXt'``).

``locations`` makes every node import its subpackage on first lookup, so tools
never need ``import mmpathseg.models`` for side effects. Each node lists its
mmseg parent's location first: mmengine looks up a parent's types without
importing the parent's locations, so unprefixed mmseg types would otherwise
resolve only after something else imported mmseg's subpackage.

More details can be found at
https://mmengine.readthedocs.io/en/latest/advanced_tutorials/registry.html.
"""
from mmengine.registry import Registry
from mmseg.registry import DATA_SAMPLERS as MMSEG_DATA_SAMPLERS
from mmseg.registry import DATASETS as MMSEG_DATASETS
from mmseg.registry import EVALUATOR as MMSEG_EVALUATOR
from mmseg.registry import HOOKS as MMSEG_HOOKS
from mmseg.registry import INFERENCERS as MMSEG_INFERENCERS
from mmseg.registry import LOG_PROCESSORS as MMSEG_LOG_PROCESSORS
from mmseg.registry import LOOPS as MMSEG_LOOPS
from mmseg.registry import METRICS as MMSEG_METRICS
from mmseg.registry import MODEL_WRAPPERS as MMSEG_MODEL_WRAPPERS
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMSEG_OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.registry import OPTIM_WRAPPERS as MMSEG_OPTIM_WRAPPERS
from mmseg.registry import OPTIMIZERS as MMSEG_OPTIMIZERS
from mmseg.registry import PARAM_SCHEDULERS as MMSEG_PARAM_SCHEDULERS
from mmseg.registry import \
    RUNNER_CONSTRUCTORS as MMSEG_RUNNER_CONSTRUCTORS
from mmseg.registry import RUNNERS as MMSEG_RUNNERS
from mmseg.registry import TASK_UTILS as MMSEG_TASK_UTILS
from mmseg.registry import TRANSFORMS as MMSEG_TRANSFORMS
from mmseg.registry import VISBACKENDS as MMSEG_VISBACKENDS
from mmseg.registry import VISUALIZERS as MMSEG_VISUALIZERS
from mmseg.registry import \
    WEIGHT_INITIALIZERS as MMSEG_WEIGHT_INITIALIZERS

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS',
    'EVALUATOR', 'VISUALIZERS', 'VISBACKENDS', 'INFERENCERS'
]

#######################################################################
#                           mmpathseg.engine                          #
#######################################################################

# Runners like `Runner`, `FlexibleRunner`.
RUNNERS = Registry(
    'runner', parent=MMSEG_RUNNERS, locations=['mmpathseg.engine'])
# Runner constructors that define how to initialize runners.
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMSEG_RUNNER_CONSTRUCTORS,
    locations=['mmpathseg.engine'])
# Loops which define the training or test process, like `EpochBasedTrainLoop`.
LOOPS = Registry('loop', parent=MMSEG_LOOPS, locations=['mmpathseg.engine'])
# Hooks to add additional functions during running, like `CheckpointHook`.
HOOKS = Registry(
    'hook',
    parent=MMSEG_HOOKS,
    locations=['mmseg.engine.hooks', 'mmpathseg.engine.hooks'])
# Log processors to process the scalar log data.
LOG_PROCESSORS = Registry(
    'log processor',
    parent=MMSEG_LOG_PROCESSORS,
    locations=['mmpathseg.engine'])
# Optimizers to optimize the model weights, like `SGD` and `Adam`.
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMSEG_OPTIMIZERS,
    locations=['mmseg.engine.optimizers', 'mmpathseg.engine.optimizers'])
# Optimizer wrappers to enhance the optimization process.
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMSEG_OPTIM_WRAPPERS,
    locations=['mmseg.engine.optimizers', 'mmpathseg.engine.optimizers'])
# Optimizer constructors to customize the hyperparameters of optimizers.
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMSEG_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmseg.engine.optimizers', 'mmpathseg.engine.optimizers'])
# Parameter schedulers to dynamically adjust optimization parameters.
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMSEG_PARAM_SCHEDULERS,
    locations=['mmseg.engine.schedulers', 'mmpathseg.engine'])

#######################################################################
#                          mmpathseg.datasets                         #
#######################################################################

# Datasets like PanNuke, CoNIC, SA-Med2D-20M, QaTa-COV19, BCSS-Ref.
DATASETS = Registry(
    'dataset',
    parent=MMSEG_DATASETS,
    locations=['mmseg.datasets', 'mmpathseg.datasets'])
# Samplers to sample the dataset.
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMSEG_DATA_SAMPLERS,
    locations=['mmseg.datasets', 'mmpathseg.datasets'])
# Transforms: loading, target making (HV maps, prompts, texts) and packing.
TRANSFORMS = Registry(
    'transform',
    parent=MMSEG_TRANSFORMS,
    locations=['mmseg.datasets.transforms', 'mmpathseg.datasets.transforms'])

#######################################################################
#                           mmpathseg.models                          #
#######################################################################

# Backbones, necks, heads, mixtures of experts, losses, segmentors.
MODELS = Registry(
    'model',
    parent=MMSEG_MODELS,
    locations=['mmseg.models', 'mmpathseg.models'])
# Model wrappers like 'MMDistributedDataParallel'.
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMSEG_MODEL_WRAPPERS,
    locations=['mmpathseg.engine'])
# Weight initialization methods like uniform, xavier.
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMSEG_WEIGHT_INITIALIZERS,
    locations=['mmseg.models', 'mmpathseg.models'])
# Task-specific modules: post-processors, tile mergers, prompt samplers.
TASK_UTILS = Registry(
    'task util',
    parent=MMSEG_TASK_UTILS,
    locations=['mmseg.models', 'mmpathseg.models', 'mmpathseg.postprocessing'])

#######################################################################
#                         mmpathseg.evaluation                        #
#######################################################################

# Metrics: PQ family, per-mask DSC, dataset-level Dice/IoU, gIoU/cIoU.
METRICS = Registry(
    'metric',
    parent=MMSEG_METRICS,
    locations=['mmseg.evaluation', 'mmpathseg.evaluation'])
# Evaluators to run the metrics.
EVALUATOR = Registry(
    'evaluator',
    parent=MMSEG_EVALUATOR,
    locations=['mmseg.evaluation', 'mmpathseg.evaluation'])

#######################################################################
#                       mmpathseg.visualization                       #
#######################################################################

# Visualizers to display task-specific results.
VISUALIZERS = Registry(
    'visualizer',
    parent=MMSEG_VISUALIZERS,
    locations=['mmseg.visualization', 'mmpathseg.visualization'])
# Backends that save the visualization results, like TensorBoard, WandB.
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMSEG_VISBACKENDS,
    locations=['mmseg.visualization', 'mmpathseg.visualization'])

#######################################################################
#                            mmpathseg.apis                           #
#######################################################################

# Inferencers for every task family.
INFERENCERS = Registry(
    'inferencer', parent=MMSEG_INFERENCERS, locations=['mmpathseg.apis'])
