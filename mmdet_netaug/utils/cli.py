"""Shared start of the command-line tools."""
import os.path as osp

from mmengine.config import Config, DictAction

from mmdet.utils import register_all_modules, setup_cache_size_limit_of_dynamo

from .config import ConfigError, load_config


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` (``--cfg-options KEY=VALUE ...``) whose
    parse errors end in one usage line naming the option, not a traceback
    from inside mmengine."""

    def __call__(self, parser, namespace, values, option_string=None):
        for value in values:
            if '=' not in value:
                parser.error(f'{option_string} {value!r}: expected '
                             'KEY=VALUE (e.g. train_dataloader.batch_size=8)')
        try:
            super().__call__(parser, namespace, values, option_string)
        except (ValueError, AssertionError) as error:
            parser.error(f'{option_string} {" ".join(values)!r}: {error} '
                         '(lists as key="[a,b]", tuples as key="(a,b)")')


def load_cli_config(path: str, cfg_options=None) -> Config:
    """:func:`~mmdet_netaug.utils.config.load_config` for a command line:
    its errors (naming the file or the option) end the tool with one line
    (``SystemExit``), not a traceback."""
    try:
        return load_config(path, cfg_options)
    except ConfigError as error:
        raise SystemExit(f'Error: {error}'.replace(
            'options ', '--cfg-options ', 1))


def config_from_args(args) -> Config:
    """Load ``args.config`` the way mmdet's tools do.

    Registers mmdet's modules (default scope ``mmdet``), limits dynamo
    recompilations, applies ``--launcher`` and ``--cfg-options``, and sets
    the work dir by priority: ``--work-dir`` > config > ``./work_dirs/<config
    name>``.
    """
    register_all_modules(init_default_scope=True)
    setup_cache_size_limit_of_dynamo()
    cfg = load_cli_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg
