"""CPU time of a config's training data pipeline, transform by transform.

    python tools/analysis_tools/benchmark_data_pipeline.py CONFIG
        [--images 100] [--seed 0] [--cfg-options k=v ...]

Runs the training pipeline in this process (no workers) on the first
``--images`` training images and prints milliseconds per image for each
transform. Where the pipeline crops with ``FastMinIoURandomCrop``, mmdet's
``MinIoURandomCrop`` also runs on the same inputs from the same random state,
and the ratio of the two crops and of the two pipelines is printed. Set
``OMP_NUM_THREADS=1`` for the cost of one data worker.
"""
import argparse

from mmengine.config import DictAction

import mmdet_netaug  # noqa: F401  (registers the package's modules)
from mmdet.utils import register_all_modules
from mmdet_netaug.apis.pipeline_timing import MMDET_CROP, time_train_pipeline
from mmdet_netaug.utils.cli import load_cli_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time a training data pipeline, transform by transform')
    parser.add_argument('config', help='config file')
    parser.add_argument('--images', type=int, default=100,
                        help='number of training images (default 100)')
    parser.add_argument('--seed', type=int, default=0,
                        help='NumPy seed of the random transforms')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = load_cli_config(args.config, args.cfg_options)
    try:
        times = time_train_pipeline(cfg, args.images, args.seed)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'Error: {e}')
    print(f'{args.config}: {args.images} images, ms per image')
    for name, ms in times.items():
        print(f'  {name:40s} {ms:8.2f}')
    pipeline = sum(ms for name, ms in times.items() if name != MMDET_CROP)
    print(f'  {"pipeline":40s} {pipeline:8.2f}')
    if MMDET_CROP in times:
        fast = times['FastMinIoURandomCrop']
        mmdet_pipeline = pipeline - fast + times[MMDET_CROP]
        print(f'crop: mmdet / fast = {times[MMDET_CROP] / fast:.2f}x; '
              f'pipeline with mmdet\'s crop {mmdet_pipeline:.2f} ms, '
              f'{mmdet_pipeline / pipeline:.2f}x this one')


if __name__ == '__main__':
    main()
