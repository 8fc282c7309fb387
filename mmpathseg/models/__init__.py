# Copyright (c) mmpathseg contributors. All rights reserved.
from .backbones import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .language import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .moe import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
