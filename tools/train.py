"""Train a detector: mmdet's ``tools/train.py`` with the NetAug package loaded.

Same options and semantics as MMDetection 3.3.0's tool, plus two things:
``mmdet_netaug`` is imported first (registers its modules, applies its
compatibility fixes) and the dataset paths are checked before the runner is
built, so a missing dataset stops at once with a readable message.

    python tools/train.py CONFIG [--work-dir DIR] [--amp] [--auto-scale-lr]
        [--resume [CKPT]] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import os.path as osp

import mmdet_netaug  # noqa: F401  (first: registries + compatibility fixes)
from mmdet_netaug.utils import check_dataset_paths
from mmengine.config import Config, DictAction
from mmengine.device import (is_cuda_available, is_mlu_available,
                             is_musa_available, is_npu_available)
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmdet.utils import register_all_modules, setup_cache_size_limit_of_dynamo


def parse_args():
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training (needs a GPU: '
        "mmengine's AmpOptimWrapper refuses to run on CPU)")
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='enable automatically scaling LR.')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or, without a path, from the '
        'latest checkpoint in the work directory.')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings with key=value pairs (nested keys '
        'dotted, e.g. train_dataloader.dataset.data_root=data/coco/); lists '
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


def enable_amp(cfg):
    """Switch to ``AmpOptimWrapper`` with dynamic loss scaling, as mmdet does.

    mmengine 0.10.7's ``AmpOptimWrapper.__init__`` asserts a CUDA/NPU/MLU/MUSA
    device, so CPU training cannot use it, not even with
    ``dtype='bfloat16'`` (torch's CPU autocast would support bf16, the
    wrapper does not get that far). Stop with a clear message instead of the
    assertion deep inside the runner.
    """
    if not (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available()):
        raise SystemExit(
            '--amp needs a GPU (CUDA, NPU, MLU or MUSA): mmengine 0.10.7\'s '
            'AmpOptimWrapper refuses to run on CPU, and no device was found. '
            'Run without --amp to train in fp32 on CPU.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def main():
    args = parse_args()
    register_all_modules(init_default_scope=True)
    # fewer repeated torch.compile recompilations, faster training
    setup_cache_size_limit_of_dynamo()

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        enable_amp(cfg)

    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and 'enable' in cfg.auto_scale_lr \
                and 'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.enable" or '
                               '"auto_scale_lr.base_batch_size" in your'
                               ' configuration file.')

    # an explicit checkpoint wins over auto-resume from the work dir
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    # training uses the train and val splits; the test split is not touched
    try:
        check_dataset_paths(cfg, splits=('train', 'val'))
    except FileNotFoundError as e:
        raise SystemExit(f'Error: {e}')

    # default Runner, or a custom one registered under `runner_type`
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
