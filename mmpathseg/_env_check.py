# Copyright (c) mmpathseg contributors. All rights reserved.
"""Fail early, with the fix, when the OpenMMLab stack is not usable."""
import importlib.util
from importlib import metadata

SUPPORTED = {
    'mmcv': ('2.0.0', '2.2.0'),
    'mmengine': ('0.10.0', '1.0.0'),
    'mmsegmentation': ('1.2.0', '1.3.0'),
}

INSTALL_HINT = ('Run `bash tools/setup_env.sh` from the mmpathseg checkout '
                '(it builds mmcv 2.1.0 with its compiled ops and caches the '
                'wheel), or see "Bring your own environment" in README.md.')


def _version_tuple(version: str) -> tuple:
    parts = []
    for piece in version.split('+')[0].split('.')[:3]:
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_stack() -> None:
    """Check the installed mmcv/mmengine/mmseg versions and mmcv's ops.

    Raises:
        ImportError: naming the package, the version found, the supported
            range and how to fix it. mmcv-lite (no compiled ops) is refused
            here, because ``import mmseg`` needs ``mmcv.ops`` and would
            otherwise fail later with ``No module named 'mmcv._ext'``.
    """
    for dist, (low, high) in SUPPORTED.items():
        try:
            found = metadata.version(dist)
        except metadata.PackageNotFoundError:
            if dist == 'mmcv' and _has_dist('mmcv-lite'):
                raise ImportError(
                    'mmpathseg needs the full `mmcv==2.1.0` with compiled '
                    f'ops, but mmcv-lite {metadata.version("mmcv-lite")} is '
                    'installed '
                    '(mmsegmentation imports `mmcv.ops` at import time). '
                    'Uninstall it with `pip uninstall mmcv-lite`. '
                    + INSTALL_HINT) from None
            raise ImportError(f'{dist} is not installed; mmpathseg supports '
                              f'{low} <= {dist} < {high}. ' + INSTALL_HINT) \
                from None
        if not (_version_tuple(low) <= _version_tuple(found) <
                _version_tuple(high)):
            raise ImportError(f'{dist}=={found} is installed, but mmpathseg '
                              f'supports {low} <= {dist} < {high}. ' +
                              INSTALL_HINT)
    if importlib.util.find_spec('mmcv._ext') is None:
        raise ImportError(
            'mmcv is installed without its compiled ops (`mmcv._ext` is '
            'missing): mmsegmentation imports `mmcv.ops` at import time and '
            'CellVTA uses `mmcv.ops.MultiScaleDeformableAttention`. Rebuild '
            'with `MMCV_WITH_OPS=1 pip install --no-build-isolation '
            'mmcv==2.1.0` (setuptools<81). ' + INSTALL_HINT)


def _has_dist(name: str) -> bool:
    try:
        metadata.version(name)
        return True
    except metadata.PackageNotFoundError:
        return False
