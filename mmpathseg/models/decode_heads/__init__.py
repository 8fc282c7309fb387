# Copyright (c) mmpathseg contributors. All rights reserved.
from .cellvit_head import CellViTHead

__all__ = ['CellViTHead']
