"""Width-dynamic layers."""
from .dynamic_ops import (DYNAMIC_OPS, DynamicBatchNorm2d, DynamicChannelMixin,
                          DynamicConv2d, DynamicSyncBatchNorm)

__all__ = [
    'DynamicChannelMixin', 'DynamicConv2d', 'DynamicBatchNorm2d',
    'DynamicSyncBatchNorm', 'DYNAMIC_OPS'
]
