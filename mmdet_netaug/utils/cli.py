"""Shared start of the command-line tools."""
import argparse
import os
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


def parse_launch_args(parser: argparse.ArgumentParser, dataloader: str):
    """Add the options every mmdet runner tool has (``--cfg-options``,
    ``--launcher``, ``--local-rank``) and parse; a launcher's local rank
    reaches ``LOCAL_RANK`` as in mmdet's tools. ``dataloader`` names the
    loader of the help's example."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help='override config settings with key=value pairs (nested keys '
        f'dotted, e.g. {dataloader}.dataset.data_root=data/coco/); lists '
        'as key="[a,b]" or key=a,b, nested as key="[(a,b),(c,d)]". Quotes are '
        'needed and no white space is allowed.')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    # torch>=2.0 launchers pass `--local-rank`, older ones `--local_rank`.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_cli_config(path: str, cfg_options=None) -> Config:
    """:func:`~mmdet_netaug.utils.config.load_config` for a command line:
    its errors (naming the file or the option) end the tool with one line
    (``SystemExit``), not a traceback."""
    try:
        return load_config(path, cfg_options)
    except ConfigError as error:
        if error.options is None:
            raise SystemExit(f'Error: {error.reason}')
        raise SystemExit(f'Error: --cfg-options {error.options} do not fit '
                         f'{path}: {error.reason}')


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


def apply_resume(cfg: Config, resume) -> None:
    """``tools/train.py --resume [CHECKPOINT]`` on the config: a checkpoint
    named resumes from it (it wins over ``load_from``); ``--resume`` alone
    (``'auto'``) resumes from the work dir's latest checkpoint. Where there
    is none yet (a run's first sitting), the config's own ``load_from``
    (a pretrained model) still starts the run, as without ``--resume``;
    mmdet's tool drops it there and trains from random weights."""
    from mmengine.logging import print_log
    from mmengine.runner.checkpoint import find_latest_checkpoint
    if resume is None:
        return
    if resume != 'auto':
        cfg.resume, cfg.load_from = True, resume
        return
    if cfg.get('load_from') and (
            not osp.isdir(cfg.work_dir)
            or find_latest_checkpoint(cfg.work_dir) is None):
        print_log(f'--resume: no checkpoint in {cfg.work_dir} yet; the run '
                  f'starts from load_from {cfg.load_from}',
                  logger='current')
        cfg.resume = False
        return
    cfg.resume, cfg.load_from = True, None

