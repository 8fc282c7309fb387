# Copyright (c) mmpathseg contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope

MODULES = ('mmpathseg.datasets', 'mmpathseg.datasets.transforms',
           'mmpathseg.engine', 'mmpathseg.evaluation', 'mmpathseg.models',
           'mmpathseg.visualization', 'mmpathseg.apis')


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmpathseg (and mmseg) module into the registries.

    Tools do not need this: registry ``locations`` import lazily. It is for
    notebooks and scripts that build components outside a config.

    Args:
        init_default_scope (bool): Whether to set the default scope to
            ``'mmpathseg'`` so that ``MODELS.build`` finds mmpathseg types
            first. Defaults to True.
    """
    import importlib

    import mmseg.utils
    mmseg.utils.register_all_modules(init_default_scope=False)
    for module in MODULES:
        importlib.import_module(module)
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmpathseg', scope_name='mmpathseg')
    elif current.scope_name != 'mmpathseg':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmpathseg"; `register_all_modules` creates a new '
                      'default scope named "mmpathseg".')
        # A unique instance name: mmengine refuses to reuse one.
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S-%f')
        DefaultScope.get_instance(
            f'mmpathseg-{stamp}', scope_name='mmpathseg')
