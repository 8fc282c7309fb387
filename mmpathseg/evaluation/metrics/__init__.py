# Copyright (c) mmpathseg contributors. All rights reserved.
from .instance_stats import nuclei_image_stats
from .nuclei_aggregation import AGGREGATIONS, aggregate_nuclei_stats
from .nuclei_metric import NucleiInstanceMetric

__all__ = [
    'NucleiInstanceMetric', 'nuclei_image_stats', 'aggregate_nuclei_stats',
    'AGGREGATIONS'
]
from .referring_metric import (ReferringMetric,  # noqa: E402
                               aggregate_referring_stats,
                               referring_target_stats)

__all__ += [
    'ReferringMetric', 'referring_target_stats', 'aggregate_referring_stats'
]
