"""The one way this package loads a config: mmengine's ``Config.fromfile``
(or a package's ``mmdet::...`` name through ``mmengine.hub``) with dotted
overrides merged in order, and errors that name the file or the option."""
import copy
import os.path as osp
import warnings
from typing import List, Optional

from mmengine.config import Config

# the top-level fields mmengine's Runner.from_cfg reads
RUNNER_KEYS = frozenset((
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'runner_type', 'custom_imports'))
# every top-level field read once the file is parsed: the Runner's, those
# its methods read (wrap_model, train), mmdet's test-time augmentation and
# this package's own switches (CheckedRunner); any other top-level name of
# a config file is a variable, already substituted where the file uses it
# (custom_imports is not among them: Config.fromfile imports its modules
# while it reads the file, so an override would import nothing)
READ_FIELDS = (RUNNER_KEYS - {'custom_imports'}) | frozenset((
    'sync_bn', 'find_unused_parameters', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'compile', 'strategy',
    'init_weights_for_test_or_val', 'tta_model', 'tta_pipeline',
    'memory_format', 'batched_targets', 'checkpoint_check',
    'validate_at_resume'))


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
        options = dict(options)
        _check_fields(cfg, path, options)
        max_epochs = _max_epochs(cfg)
        try:
            cfg.merge_from_dict(copy.deepcopy(options))
        except Exception as error:
            raise ConfigError(path, f'{type(error).__name__}: {error}',
                              options) from error
        _warn_schedule_left_behind(cfg, path, max_epochs)
    return cfg


def _max_epochs(cfg: Config) -> Optional[int]:
    """``train_cfg.max_epochs``, or None (no train_cfg, e.g. a test-only
    config with ``train_cfg = None``, or an iteration-based one)."""
    train_cfg = cfg.get('train_cfg')
    return train_cfg.get('max_epochs') if isinstance(train_cfg, dict) \
        else None


def _uses(cfg: Config, value, limit: int = 4) -> List[str]:
    """Dotted names of fields (of the fields read) equal to ``value``."""
    found: List[str] = []

    def walk(node, name):
        if len(found) >= limit:
            return
        if node == value and name:
            found.append(name)
            return
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f'{name}.{key}' if name else str(key))
        elif isinstance(node, (list, tuple)):
            for index, child in enumerate(node):
                walk(child, f'{name}.{index}')

    for key in sorted(READ_FIELDS & set(cfg.keys())):
        walk(cfg[key], key)
    return found


def _check_fields(cfg: Config, path: str, options: dict) -> None:
    """Refuse an override whose top-level name nothing reads: a variable of
    the file (``max_epochs``, ``data_root``, ``input_size``: substituted
    into the fields that use it when the file was read, so overriding it
    changes nothing) or a name the config does not have (a typo, e.g.
    ``memory_fromat``), which would be added and ignored."""
    _check_preprocessor_options(cfg, path, options)
    for key in options:
        field = key.split('.')[0]
        if field in READ_FIELDS:
            continue
        if field == 'custom_imports':
            raise ConfigError(
                path, 'custom_imports is acted on while the file is read '
                '(its modules are imported then), so overriding it imports '
                'nothing: add the imports to the config file, or import the '
                'modules before building', {key: options[key]})
        if field in cfg:
            uses = _uses(cfg, cfg[field])
            where = (' (fields with its value: ' + ', '.join(uses) + ')'
                     if uses else '')
            raise ConfigError(
                path, f'{field!r} is a variable of the config file: its '
                'value was put into the fields that use it when the file '
                f'was read, so overriding it changes nothing; override '
                f'those fields instead{where}', {key: options[key]})
        raise ConfigError(
            path, f'{field!r} is not a field of the config, nor one that '
            'mmengine\'s runner or this package reads (a typo?); the '
            'fields read: ' + ', '.join(sorted(READ_FIELDS)),
            {key: options[key]})


def _check_preprocessor_options(cfg: Config, path: str,
                                options: dict) -> None:
    """Refuse an override of a data preprocessor the model does not use:
    the top-level ``data_preprocessor`` (mmengine's Runner gives it only to
    a model without its own) and, in a NetAug config, ``model.
    data_preprocessor`` (the detector inside has its own, which the tiny
    and the exported model use). Either was merged and ignored, so e.g. a
    NetAug run could normalise its inputs unlike its plain twin."""
    model = cfg.get('model')
    if not isinstance(model, dict):
        return
    kind = model.get('type')
    netaug = getattr(kind, '__name__', kind) == 'NetAugDetector'
    inner = model.get('detector') if netaug else model
    if not (isinstance(inner, dict) and inner.get('data_preprocessor')):
        return
    used = 'model.detector.data_preprocessor' if netaug else \
        'model.data_preprocessor'
    for key in options:
        for ignored in ('data_preprocessor', 'model.data_preprocessor'):
            if (key == ignored or key.startswith(ignored + '.')) and \
                    ignored != used:
                raise ConfigError(
                    path, f'{ignored} is not used by this config\'s model: '
                    f'it has its own, {used}; override '
                    f'{used + key[len(ignored):]} instead',
                    {key: options[key]})


def _warn_schedule_left_behind(cfg: Config, path: str,
                               old_max: Optional[int]) -> None:
    """Warn when ``train_cfg.max_epochs`` moved but an epoch-based
    scheduler still ends, or steps, where the file's schedule did (a
    cosine's ``T_max``/``end`` at the old length, milestones past the new
    end): the learning rate would not follow the new length."""
    new_max = _max_epochs(cfg)
    if old_max is None or new_max is None or new_max == old_max:
        return
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    left = []
    for index, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, dict) or not scheduler.get(
                'by_epoch', True):
            continue
        for key in ('end', 'T_max'):
            if scheduler.get(key) == old_max:
                left.append(f'param_scheduler.{index}.{key}={old_max}')
        late = [m for m in scheduler.get('milestones') or [] if m >= new_max]
        if late:
            left.append(f'param_scheduler.{index}.milestones='
                        f'{list(scheduler["milestones"])}')
    if left:
        warnings.warn(
            f'{path}: train_cfg.max_epochs is now {new_max} (was '
            f'{old_max}), but {", ".join(left)} still follow the old '
            'length: override them too (compare_accuracy.py --epochs '
            'stretches them itself)', stacklevel=3)
