"""Shared start of the command-line tools."""
import os.path as osp

from mmengine.config import Config

from mmdet.utils import register_all_modules, setup_cache_size_limit_of_dynamo


def config_from_args(args) -> Config:
    """Load ``args.config`` the way mmdet's tools do.

    Registers mmdet's modules (default scope ``mmdet``), limits dynamo
    recompilations, applies ``--launcher`` and ``--cfg-options``, and sets
    the work dir by priority: ``--work-dir`` > config > ``./work_dirs/<config
    name>``.
    """
    register_all_modules(init_default_scope=True)
    setup_cache_size_limit_of_dynamo()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg
