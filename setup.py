# Copyright (c) mmpathseg contributors. All rights reserved.
"""Install mmpathseg.

mmcv 2.1.0 with compiled ops has no wheel for current torch releases on PyPI;
`tools/setup_env.sh` builds and caches it. Users who bring their own
environment install mmcv first, then `pip install -e .`; importing mmpathseg
says clearly when mmcv's ops are missing.

mmpathseg's own C kernels (`mmpathseg/ops/csrc`, plain C loaded with ctypes,
no Python or numpy headers) are built here, in place for an editable install.
They are optional: without a C compiler the install goes on and the numpy
implementations run instead, with a warning at first use.
"""
import os.path as osp
import re

from setuptools import Extension, find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    with open(osp.join(HERE, 'mmpathseg', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def parse_requirements(name: str) -> list:
    """Read ``requirements/<name>.txt`` without comments or blank lines."""
    requirements = []
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                requirements.append(line)
    return requirements


# Plain C, loaded with ctypes (mmpathseg/ops/label_kernels.py).
EXT_MODULES = [
    Extension(
        'mmpathseg.ops._label_kernels',
        sources=['mmpathseg/ops/csrc/label_kernels.c'],
        extra_compile_args=['-O3', '-std=c99'],
        optional=True)
]


if __name__ == '__main__':
    setup(
        name='mmpathseg',
        version=get_version(),
        description='OpenMMLab-style model zoo for pathology and medical '
        'image segmentation',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        license='Apache License 2.0',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'demo')),
        include_package_data=True,
        python_requires='>=3.10',
        install_requires=parse_requirements('runtime'),
        extras_require=dict(
            tests=parse_requirements('tests'),
            optional=parse_requirements('optional'),
            build=parse_requirements('build'),
        ),
        classifiers=[
            'Programming Language :: Python :: 3.11',
            'Topic :: Scientific/Engineering :: Medical Science Apps.',
        ],
        ext_modules=EXT_MODULES,
        zip_safe=False)
