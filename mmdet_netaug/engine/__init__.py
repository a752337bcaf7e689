"""Training-time machinery."""
from .hooks import NetAugHook

__all__ = ['NetAugHook']
