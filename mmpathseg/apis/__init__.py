# Copyright (c) mmpathseg contributors. All rights reserved.
from .inference import inference_model, inference_pipeline, init_model
from .inferencer import MMPathSegInferencer
from .large_image import TileRunner, infer_large_image
from .slide_readers import ArrayReader, OpenSlideReader, open_image
from .task_adapters import (TaskAdapter, get_task_adapter,
                            register_task_adapter, registered_task_adapters)

__all__ = [
    'init_model', 'inference_model', 'inference_pipeline',
    'MMPathSegInferencer', 'infer_large_image', 'TileRunner', 'open_image',
    'ArrayReader', 'OpenSlideReader', 'TaskAdapter', 'register_task_adapter',
    'get_task_adapter', 'registered_task_adapters'
]
