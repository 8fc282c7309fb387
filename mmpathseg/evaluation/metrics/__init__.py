# Copyright (c) mmpathseg contributors. All rights reserved.
from .instance_stats import nuclei_image_stats
from .nuclei_aggregation import AGGREGATIONS, aggregate_nuclei_stats
from .nuclei_metric import NucleiInstanceMetric
from .prompt_dice_metric import PromptDiceMetric, mask_dice

__all__ = [
    'NucleiInstanceMetric', 'nuclei_image_stats', 'aggregate_nuclei_stats',
    'AGGREGATIONS', 'PromptDiceMetric', 'mask_dice'
]
from .dataset_dice_metric import DatasetDiceMetric  # noqa: E402

__all__ += ['DatasetDiceMetric']
