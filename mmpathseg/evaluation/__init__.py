# Copyright (c) mmpathseg contributors. All rights reserved.
from .metrics import *  # noqa: F401,F403
