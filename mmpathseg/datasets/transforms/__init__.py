# Copyright (c) mmpathseg contributors. All rights reserved.
from .blur import Blur, Downscale, ZoomBlur
from .formatting import PackNucleiInputs
from .geometric import ElasticTransform, RandomRotate90, RandomSizedCrop
from .loading import LoadImageFromNpy, LoadPanNukeAnnotations
from .nuclei_loading import LoadNucleiAnnotations
from .nuclei_targets import GenerateHVMap
from .photometric import ColorJitter, GaussNoise, Superpixels
from .upscale_crop import UpscaleCrop

__all__ = [
    'LoadImageFromNpy', 'LoadPanNukeAnnotations', 'RandomRotate90',
    'RandomSizedCrop', 'ElasticTransform', 'Blur', 'ZoomBlur', 'Downscale',
    'GaussNoise', 'ColorJitter', 'Superpixels', 'GenerateHVMap',
    'PackNucleiInputs', 'LoadNucleiAnnotations', 'UpscaleCrop'
]
from .referring_conversation import BuildReferringConversation  # noqa: E402
from .referring_formatting import PackReferringInputs  # noqa: E402
from .referring_loading import LoadReferringAnnotations  # noqa: E402

__all__ += [
    'LoadReferringAnnotations', 'BuildReferringConversation',
    'PackReferringInputs'
]
