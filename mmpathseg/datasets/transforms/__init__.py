# Copyright (c) mmpathseg contributors. All rights reserved.
from .blur import Blur, Downscale, ZoomBlur
from .formatting import PackNucleiInputs
from .geometric import ElasticTransform, RandomRotate90, RandomSizedCrop
from .loading import LoadImageFromNpy, LoadPanNukeAnnotations
from .nuclei_loading import LoadNucleiAnnotations
from .nuclei_targets import GenerateHVMap
from .photometric import ColorJitter, GaussNoise, Superpixels
from .upscale_crop import UpscaleCrop
from .medical_intensity import IntensityWindow, MinMaxScale
from .prompt_formatting import PackPromptInputs
from .prompt_generation import GenerateBoxPrompt, GeneratePointPrompt
from .prompt_loading import LoadIMedLabels, LoadPromptMasks, SampleMasks
from .prompt_resize import PromptResize

__all__ = [
    'LoadImageFromNpy', 'LoadPanNukeAnnotations', 'RandomRotate90',
    'RandomSizedCrop', 'ElasticTransform', 'Blur', 'ZoomBlur', 'Downscale',
    'GaussNoise', 'ColorJitter', 'Superpixels', 'GenerateHVMap',
    'PackNucleiInputs', 'LoadNucleiAnnotations', 'UpscaleCrop',
    'SampleMasks', 'LoadPromptMasks', 'GenerateBoxPrompt',
    'GeneratePointPrompt', 'PromptResize', 'PackPromptInputs', 'MinMaxScale',
    'IntensityWindow', 'LoadIMedLabels'
]
from .text_formatting import PackTextSegInputs, RandomDropText  # noqa: E402
from .text_seg_loading import LoadBinaryMask  # noqa: E402

__all__ += ['PackTextSegInputs', 'RandomDropText', 'LoadBinaryMask']
