"""mmdet-netaug: Network Augmentation (NetAug) for tiny MMDetection detectors.

Importing the package registers its models and hooks with mmdet's registries
(``custom_imports=dict(imports=['mmdet_netaug'])`` in a config) and applies
the compatibility fixes in :mod:`mmdet_netaug.compat`.
"""
from . import compat  # noqa: F401  (fixes applied on import)
from . import datasets  # noqa: F401  (registers CheckedCocoDataset)
from .engine import NetAugHook
from .models import NetAugBackbone, NetAugDetector
from .version import __version__

__all__ = ['NetAugBackbone', 'NetAugDetector', 'NetAugHook', '__version__']
