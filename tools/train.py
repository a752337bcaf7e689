"""Train a detector: mmdet's ``tools/train.py`` with the NetAug package loaded.

Same options and semantics as MMDetection 3.3.0's tool, plus two things:
``mmdet_netaug`` is imported first (registers its modules, applies its
compatibility fixes) and the dataset paths are checked before the runner is
built, so a missing dataset stops at once with a readable message. Without a
GPU, ``--amp`` trains in bfloat16 with ``CPUAmpOptimWrapper`` and
``--launcher pytorch`` (torchrun) trains with gloo on CPU processes.

    python tools/train.py CONFIG [--work-dir DIR] [--amp] [--auto-scale-lr]
        [--resume [CKPT]] [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import logging
import pickle

import mmdet_netaug  # noqa: F401  (first: registries + compatibility fixes)
from mmdet_netaug.engine import (CheckedRunner, CheckpointMismatchError,
                                 has_accelerator, setup_cpu_distributed)
from mmdet_netaug.utils import (apply_resume, check_dataset_paths,
                                config_from_args, parse_launch_args)
from mmengine.logging import print_log
from mmengine.registry import RUNNERS



def parse_args():
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training: float16 with '
        "dynamic loss scaling (mmengine's AmpOptimWrapper) on a GPU, "
        'bfloat16 autocast (CPUAmpOptimWrapper) without one')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='enable automatically scaling LR.')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or, without a path, from the '
        'latest checkpoint in the work directory.')
    return parse_launch_args(parser, 'train_dataloader')


def enable_amp(cfg):
    """Switch the optimiser wrapper to mixed precision.

    On a GPU (CUDA, NPU, MLU, MUSA): mmengine's ``AmpOptimWrapper`` with
    dynamic loss scaling, as mmdet does. Without one: mmengine 0.10.7's
    ``AmpOptimWrapper`` asserts a GPU in its constructor, so
    ``CPUAmpOptimWrapper`` runs the forward under bfloat16 CPU autocast
    instead (bfloat16 needs no loss scaling).
    """
    wrapper = cfg.optim_wrapper
    kind = wrapper.get('type', 'OptimWrapper')
    if kind not in ('OptimWrapper', 'AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        # mmdet asserts OptimWrapper; another wrapper (OptimWrapperDict, a
        # custom one) would silently be replaced by the AMP one
        raise SystemExit(
            f'Error: --amp replaces optim_wrapper.type OptimWrapper with a '
            f'mixed-precision wrapper; this config uses {kind!r}, which it '
            'would silently drop: set the AMP wrapper in the config instead')
    if has_accelerator():
        if wrapper.get('type') == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.',
                      logger='current', level=logging.WARNING)
            return
        wrapper.type = 'AmpOptimWrapper'
        wrapper.loss_scale = 'dynamic'
    else:
        # the GPU wrapper's options (loss scaling, float16) do not apply
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            wrapper.pop(key, None)
        wrapper.type = 'CPUAmpOptimWrapper'
        print_log('--amp without a GPU: bfloat16 autocast on CPU '
                  '(CPUAmpOptimWrapper)', logger='current')


def main():
    args = parse_args()
    cfg = config_from_args(args)

    if args.amp:
        enable_amp(cfg)

    # without a GPU, torchrun processes train with gloo on CPU
    if cfg.launcher != 'none' and not has_accelerator():
        try:
            setup_cpu_distributed(cfg)
        except ValueError as e:
            raise SystemExit(f'Error: {e}')

    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and 'enable' in cfg.auto_scale_lr \
                and 'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.enable" or '
                               '"auto_scale_lr.base_batch_size" in your'
                               ' configuration file.')

    # an explicit checkpoint wins over auto-resume from the work dir, which
    # wins over the config's load_from once there is something to resume
    apply_resume(cfg, args.resume)

    # training uses the train and val splits; the test split is not touched
    try:
        check_dataset_paths(cfg, splits=('train', 'val'))
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'Error: {e}')

    # CheckedRunner (mmengine's Runner whose checkpoints must fit the
    # model), or a custom one registered under `runner_type`
    # (building the model loads a distillation teacher's checkpoint)
    try:
        runner = CheckedRunner.from_cfg(cfg) if 'runner_type' not in cfg \
            else RUNNERS.build(cfg)
        runner.train()
    except (CheckpointMismatchError, pickle.UnpicklingError) as e:
        raise SystemExit(f'Error: {e}')


if __name__ == '__main__':
    main()
