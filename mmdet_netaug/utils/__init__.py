"""Utilities for the command-line tools."""
from .cli import config_from_args
from .data_check import check_dataset_paths

__all__ = ['check_dataset_paths', 'config_from_args']
