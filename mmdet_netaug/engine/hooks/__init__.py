"""Runner hooks."""
from .bn_reestimation import BatchNormReestimation, ReestimateBNHook
from .netaug_hook import NetAugHook, sample_widths

__all__ = [
    'BatchNormReestimation', 'NetAugHook', 'ReestimateBNHook', 'sample_widths'
]
