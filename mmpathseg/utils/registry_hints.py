# Copyright (c) mmpathseg contributors. All rights reserved.
"""Turn mmengine's "X is not in the registry" KeyError into a message that says
where we looked, what is close, and how to plug in a new module."""
import contextlib
import difflib
import re
from typing import Iterator, List, Optional

from mmengine.registry import Registry

_MISSING = re.compile(
    r'(?P<type>[\w.]+) is not in the (?P<scope>[\w]+)::(?P<name>[\w .]+?) '
    r'registry')

PLUGIN_HINT = (
    'To use a module of your own, register it with '
    '`@MODELS.register_module()` (from `mmpathseg.registry`, or the matching '
    'node) in an importable module and add to the config:\n'
    "    custom_imports = dict(imports=['my_package.my_module'], "
    'allow_failed_imports=False)')


def _find_registry(scope: str, name: str) -> Optional[Registry]:
    """Find the registry node named ``name`` in ``scope`` (e.g. mmpathseg)."""
    import mmpathseg.registry as ours
    for attr in ours.__all__:
        node = getattr(ours, attr)
        # Walk up from our node to find the one of the requested scope.
        while node is not None:
            if node.name == name and node.scope == scope:
                return node
            node = node.parent
    return None


def _known_types(registry: Registry) -> List[str]:
    """All keys visible from ``registry``: its own, its ancestors', and those
    of sibling scopes with their prefix."""
    with contextlib.suppress(Exception):
        registry.import_from_location()
    keys = set()
    node = registry
    while node is not None:
        keys.update(node.module_dict)
        node = node.parent
    root = registry._get_root_registry()
    for scope, child in root.children.items():
        for grandchild_scope, grandchild in child.children.items():
            if grandchild.name == registry.name:
                keys.update(f'{grandchild_scope}.{key}'
                            for key in grandchild.module_dict)
        if scope != 'mmengine' and child.name == registry.name:
            keys.update(f'{scope}.{key}' for key in child.module_dict)
    return sorted(keys)


def explain_missing_type(message: str) -> Optional[str]:
    """Return an actionable message for a registry miss, or None.

    Args:
        message (str): The text of a KeyError raised by mmengine's
            ``build_from_cfg``.

    Returns:
        str | None: The type, the registry and its parents, up to five
        close matches, and the ``custom_imports`` recipe; None if ``message``
        is not a registry miss.
    """
    match = _MISSING.search(message)
    if match is None:
        return None
    obj_type, scope, name = match.group('type', 'scope', 'name')
    registry = _find_registry(scope, name)
    lines = [f'Unknown type "{obj_type}" in the {scope}::{name} registry.']
    if registry is not None:
        chain, node = [], registry
        while node is not None:
            chain.append(f'{node.scope}::{node.name}')
            node = node.parent
        lines.append('Searched: ' + ' -> '.join(chain) + '.')
        close = difflib.get_close_matches(
            obj_type, _known_types(registry), n=5, cutoff=0.6)
        if close:
            lines.append('Did you mean: ' + ', '.join(close) + '?')
    if scope != 'mmpathseg':
        lines.append(f'The default scope was "{scope}"; mmpathseg configs set '
                     "`default_scope = 'mmpathseg'` (inherit "
                     'configs/_base_/default_runtime.py).')
    lines.append(PLUGIN_HINT)
    return '\n'.join(lines)


class UnknownTypeError(KeyError):
    """A registry miss, explained. ``str()`` keeps the newlines readable."""

    def __str__(self) -> str:
        return str(self.args[0])


@contextlib.contextmanager
def registry_hints() -> Iterator[None]:
    """Re-raise registry misses inside the block with an explanation."""
    try:
        yield
    except KeyError as err:
        hint = explain_missing_type(str(err))
        if hint is None:
            raise
        raise UnknownTypeError(hint) from err
