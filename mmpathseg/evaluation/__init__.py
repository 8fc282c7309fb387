# Copyright (c) mmpathseg contributors. All rights reserved.
