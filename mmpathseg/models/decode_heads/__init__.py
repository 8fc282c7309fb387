# Copyright (c) mmpathseg contributors. All rights reserved.
from .cellvit_head import CellViTHead

__all__ = ['CellViTHead']
from .bottleneck_adapter import BottleneckAdapter  # noqa: E402
from .guide_decoder import GuideDecoderHead  # noqa: E402
from .guide_text_projection import GuideTextProjection  # noqa: E402

__all__ += ['GuideDecoderHead', 'GuideTextProjection', 'BottleneckAdapter']
