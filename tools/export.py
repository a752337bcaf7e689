"""Export a trained NetAug model's tiny detector as a plain mmdet model.

    python tools/export.py CONFIG CHECKPOINT OUT_DIR [--input-size H W]
        [--tolerance 1e-5] [--force]

Writes OUT_DIR/<config>_tiny.py and OUT_DIR/<config>_tiny.pth, which stock
mmdet loads strictly without this package, checks that the exported model
computes what the supernet's tiny mode computes, and prints the parameters
and FLOPs of the tiny model and of the largest augmented model. The files
are written and checked in a temporary folder and moved under their names
only when the checks pass: an output difference above ``--tolerance``, a
full disk, or an existing different export (without ``--force``) exits with
an error and leaves OUT_DIR as it was.

The BatchNorm statistics in NetAug checkpoints were re-estimated for the
tiny model when they were saved (NetAugHook); ``--bn-calibration N``
re-estimates them again on N training batches before export.
"""
import argparse
import pickle

from mmengine.runner import Runner

import mmdet_netaug  # noqa: F401  (registers NetAug and applies fixes)
from mmdet.utils import register_all_modules
from mmdet_netaug.apis import (ExportError, build_netaug_model,
                               config_test_size, export_tiny)
from mmdet_netaug.engine import CheckpointMismatchError
from mmdet_netaug.utils import CfgOptionsAction, load_cli_config
from mmdet_netaug.models import recalibrate_batchnorm


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='NetAug training config')
    parser.add_argument('checkpoint', help='checkpoint of the NetAug model')
    parser.add_argument('out_dir', help='folder for the plain config and '
                        'checkpoint')
    parser.add_argument('--input-size', type=int, nargs=2,
                        default=None, metavar=('H', 'W'),
                        help='image size for the checks and FLOPs '
                        '(default: the config\'s test size, its test '
                        'pipeline\'s Resize scale)')
    parser.add_argument('--bn-calibration', type=int, default=0,
                        metavar='N', help='re-estimate BatchNorm statistics '
                        'on N training batches first (default: 0, keep the '
                        'checkpoint\'s)')
    parser.add_argument('--tolerance', type=float, default=1e-5,
                        help='largest allowed |exported - supernet tiny '
                        'mode| output difference')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing, different export of the '
                        'same name')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config settings (key=value)')
    args = parser.parse_args()
    if args.input_size is not None and min(args.input_size) < 1:
        parser.error(f'--input-size H W must be positive, got '
                     f'{args.input_size[0]} {args.input_size[1]}')
    if not args.tolerance >= 0:
        parser.error(f'--tolerance must be >= 0, got {args.tolerance}')
    if args.bn_calibration < 0:
        parser.error('--bn-calibration must be >= 0 (0 keeps the '
                     'checkpoint\'s statistics)')
    return args


def main():
    args = parse_args()
    register_all_modules()
    cfg = load_cli_config(args.config, args.cfg_options)
    if args.input_size is None:  # before the model is built and loaded
        found = config_test_size(cfg)
        if found is None:
            raise SystemExit(f'Error: {args.config} has no Resize with a '
                             'scale in its test pipeline: give --input-size '
                             'H W')
        args.input_size = list(found)
    try:
        model = build_netaug_model(cfg, args.checkpoint)
    except (CheckpointMismatchError, TypeError,
            pickle.UnpicklingError) as e:  # the last: the safe loader's
        raise SystemExit(f'Error: {e}')
    if args.bn_calibration:
        loader = Runner.build_dataloader(cfg.train_dataloader)
        used = recalibrate_batchnorm(model, loader, args.bn_calibration)
        model.eval()
        print(f'BatchNorm statistics re-estimated on {used} training '
              f'batches' + (f' (the loader has no more; {args.bn_calibration}'
                            ' asked for)' if used < args.bn_calibration
                            else ''))
    try:
        result = export_tiny(cfg, model, args.out_dir,
                             input_size=tuple(args.input_size),
                             tolerance=args.tolerance, force=args.force)
    except ExportError as e:
        raise SystemExit(f'Error: {e}')
    tiny, largest = result['tiny'], result['largest']
    print(f'Exported the tiny model:\n  config:     {result["config"]}\n'
          f'  checkpoint: {result["checkpoint"]}')
    print(f'Largest |exported - supernet tiny mode| output difference: '
          f'{result["max_abs_diff"]:.3g}')
    size = 'x'.join(map(str, args.input_size))
    print(f'{"model":<26}{"params (M)":>12}{"FLOPs (G) @" + size:>20}')
    for label, info in (('tiny (exported)', tiny),
                        ('largest augmented', largest)):
        print(f'{label:<26}{info["params"] / 1e6:>12.3f}'
              f'{info["flops"] / 1e9:>20.3f}')


if __name__ == '__main__':
    main()
