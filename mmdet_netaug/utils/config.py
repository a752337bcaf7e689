"""The one way this package loads a config: mmengine's ``Config.fromfile``
(or a package's ``mmdet::...`` name through ``mmengine.hub``) with dotted
overrides merged in order, and errors that name the file or the option."""
import copy
import os.path as osp
from typing import Optional

from mmengine.config import Config


class ConfigError(ValueError):
    """A config that is missing, does not load, or does not take an
    override; the message names the file or the option.

    Attributes:
        path (str): The config.
        options (dict, optional): The overrides that do not fit (None when
            the file itself is the problem).
        reason (str): What went wrong.
    """

    def __init__(self, path: str, reason: str,
                 options: Optional[dict] = None) -> None:
        self.path, self.reason, self.options = path, reason, options
        if options is None:
            super().__init__(reason)
        else:
            super().__init__(f'options {options} do not fit {path}: {reason}')


def load_config(path: str, *overrides: Optional[dict]) -> Config:
    """Load a config and merge ``overrides`` into it, in order.

    Args:
        path (str): A config file, or ``<package>::<config>`` (e.g.
            ``mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py``).
        *overrides (dict, optional): mmengine's dotted options
            (``{'train_dataloader.batch_size': 8}``); None or empty ones are
            skipped. They are copied, not consumed.

    Returns:
        Config: The loaded config.

    Raises:
        ConfigError: If the file does not exist, does not load (syntax
            error, missing base, ...) or an override does not fit.
    """
    if '::' in path:
        from mmengine.hub import get_config
        try:
            cfg = get_config(path)
        except Exception as error:
            raise ConfigError(path, f'cannot load config {path}: '
                              f'{type(error).__name__}: {error}') from error
    else:
        if not osp.isfile(path):
            raise ConfigError(path, f'config file {path} not found')
        try:
            cfg = Config.fromfile(path)
        except Exception as error:  # syntax errors, missing bases, ...
            raise ConfigError(path, f'cannot load config {path}: '
                              f'{type(error).__name__}: {error}') from error
    for options in overrides:
        if not options:
            continue
        try:
            cfg.merge_from_dict(copy.deepcopy(dict(options)))
        except Exception as error:
            raise ConfigError(path, f'{type(error).__name__}: {error}',
                              dict(options)) from error
    return cfg
