"""Runner hooks."""
from .netaug_hook import NetAugHook

__all__ = ['NetAugHook']
