"""Packaging for mmdet-netaug: Network Augmentation for tiny MMDetection detectors."""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    """Read ``__version__`` from ``mmdet_netaug/version.py`` without importing the package."""
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'mmdet_netaug', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='mmdet-netaug',
    version=read_version(),
    description='Network Augmentation (NetAug, ICLR 2022) for tiny MMDetection 3.x detectors',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['mmdet_netaug', 'mmdet_netaug.*']),
    python_requires='>=3.8',
    # The versions that work together. mmcv has no wheels on PyPI: build it
    # from source with its ops (see tools/install.sh).
    install_requires=[
        'torch>=1.8',
        'mmengine==0.10.7',
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmdet==3.3.0',
        'pycocotools',
        'numpy',
        'scipy',  # also an mmdet dependency; t quantiles in reports
    ],
    extras_require={'tests': ['pytest', 'pytest-xdist'],
                    'plots': ['matplotlib']},
    zip_safe=False,
)
