"""Runner hooks."""
from .netaug_hook import NetAugHook, sample_widths

__all__ = ['NetAugHook', 'sample_widths']
