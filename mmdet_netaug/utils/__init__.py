"""Utilities for the command-line tools."""
from .data_check import check_dataset_paths

__all__ = ['check_dataset_paths']
