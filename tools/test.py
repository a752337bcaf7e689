"""Test (and evaluate) a detector: mmdet's ``tools/test.py`` with NetAug loaded.

Same options and semantics as MMDetection 3.3.0's tool (without ``--tta``),
plus: ``mmdet_netaug`` is imported first (registers its modules, applies its
compatibility fixes), the test dataset paths are checked before the runner
is built, and a distillation config is tested without building its teacher.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out RESULT.pkl]
        [--show] [--show-dir DIR] [--wait-time S] [--cfg-options k=v ...]
        [--launcher pytorch]
"""
import argparse
import pickle

import mmdet_netaug  # noqa: F401  (first: registries + compatibility fixes)
from mmdet_netaug.engine import (CheckedRunner, CheckpointMismatchError,
                                 has_accelerator, setup_cpu_distributed)
from mmdet_netaug.models.distillation import model_config_without_teacher
from mmdet_netaug.utils import (check_dataset_paths, config_from_args,
                                parse_launch_args)

from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults
from mmdet.registry import RUNNERS


def parse_args():
    parser = argparse.ArgumentParser(
        description='MMDet test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--out', type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved; it is placed '
        'under work_dir/timestamp/')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    return parse_launch_args(parser, 'test_dataloader')


def main():
    args = parse_args()
    cfg = config_from_args(args)

    cfg.load_from = args.checkpoint
    # a distillation teacher is for training only: testing a KD config
    # neither builds nor needs it (nor its checkpoint)
    cfg.model = model_config_without_teacher(cfg.model)

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    # check the output name before spending time on building the runner
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise SystemExit(f'Error: --out {args.out}: the predictions are '
                         'dumped as a pickle, the name must end with .pkl '
                         'or .pickle')

    try:
        check_dataset_paths(cfg, splits=('test', ))
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'Error: {e}')

    # without a GPU, torchrun processes test with gloo on CPU
    if cfg.launcher != 'none' and not has_accelerator():
        try:
            setup_cpu_distributed(cfg)
        except ValueError as e:
            raise SystemExit(f'Error: {e}')

    # CheckedRunner (mmengine's Runner whose checkpoints must fit the
    # model), or a custom one registered under `runner_type`
    # (building the model loads a distillation teacher's checkpoint)
    try:
        runner = CheckedRunner.from_cfg(cfg) if 'runner_type' not in cfg \
            else RUNNERS.build(cfg)

        # dump raw predictions through a dummy metric
        if args.out is not None:
            runner.test_evaluator.metrics.append(
                DumpDetResults(out_file_path=args.out))

        runner.test()
    except (CheckpointMismatchError, pickle.UnpicklingError) as e:
        raise SystemExit(f'Error: {e}')


if __name__ == '__main__':
    main()
