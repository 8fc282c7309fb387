# Copyright (c) mmpathseg contributors. All rights reserved.
from .dataset_dice_metric import DatasetDiceMetric
from .instance_stats import nuclei_image_stats
from .nuclei_aggregation import AGGREGATIONS, aggregate_nuclei_stats
from .nuclei_metric import NucleiInstanceMetric
from .prompt_dice_metric import PromptDiceMetric, mask_dice
from .referring_metric import (ReferringMetric, aggregate_referring_stats,
                               referring_target_stats)

__all__ = [
    'NucleiInstanceMetric', 'nuclei_image_stats', 'aggregate_nuclei_stats',
    'AGGREGATIONS', 'PromptDiceMetric', 'mask_dice', 'DatasetDiceMetric',
    'ReferringMetric', 'referring_target_stats', 'aggregate_referring_stats'
]
