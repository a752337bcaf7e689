"""Utilities for the command-line tools."""
from .cli import CfgOptionsAction, config_from_args, load_config
from .data_check import check_dataset_paths, check_evaluator_ann_files

__all__ = [
    'CfgOptionsAction', 'check_dataset_paths', 'check_evaluator_ann_files',
    'config_from_args', 'load_config'
]
