# Copyright (c) mmpathseg contributors. All rights reserved.
from .blur import Blur, Downscale, ZoomBlur
from .formatting import PackNucleiInputs
from .geometric import ElasticTransform, RandomRotate90, RandomSizedCrop
from .loading import LoadImageFromNpy, LoadPanNukeAnnotations
from .medical_intensity import IntensityWindow, MinMaxScale
from .nuclei_loading import LoadNucleiAnnotations
from .nuclei_targets import GenerateHVMap
from .photometric import ColorJitter, GaussNoise, Superpixels
from .prompt_formatting import PackPromptInputs
from .prompt_generation import GenerateBoxPrompt, GeneratePointPrompt
from .prompt_loading import LoadIMedLabels, LoadPromptMasks, SampleMasks
from .prompt_resize import PromptResize
from .referring_conversation import BuildReferringConversation
from .referring_formatting import PackReferringInputs
from .referring_loading import LoadReferringAnnotations
from .text_formatting import PackTextSegInputs, RandomDropText
from .text_seg_loading import LoadBinaryMask
from .upscale_crop import UpscaleCrop

__all__ = [
    # nuclei
    'LoadImageFromNpy', 'LoadPanNukeAnnotations', 'RandomRotate90',
    'RandomSizedCrop', 'ElasticTransform', 'Blur', 'ZoomBlur', 'Downscale',
    'GaussNoise', 'ColorJitter', 'Superpixels', 'GenerateHVMap',
    'PackNucleiInputs', 'LoadNucleiAnnotations', 'UpscaleCrop',
    # promptable
    'SampleMasks', 'LoadPromptMasks', 'GenerateBoxPrompt',
    'GeneratePointPrompt', 'PromptResize', 'PackPromptInputs', 'MinMaxScale',
    'IntensityWindow', 'LoadIMedLabels',
    # text-guided
    'PackTextSegInputs', 'RandomDropText', 'LoadBinaryMask',
    # referring
    'LoadReferringAnnotations', 'BuildReferringConversation',
    'PackReferringInputs'
]
