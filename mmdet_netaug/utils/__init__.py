"""Utilities: loading configs, the command lines' shared start, dataset
path checks and JSON records."""
from .cli import (CfgOptionsAction, apply_resume, config_from_args,
                  load_cli_config, parse_launch_args)
from .config import ConfigError, load_config
from .data_check import (check_class_lists, check_dataset_paths,
                         check_evaluator_ann_files)

__all__ = [
    'CfgOptionsAction', 'ConfigError', 'apply_resume', 'check_class_lists',
    'check_dataset_paths', 'check_evaluator_ann_files', 'config_from_args',
    'load_cli_config', 'load_config', 'parse_launch_args'
]
