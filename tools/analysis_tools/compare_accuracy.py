"""Accuracy of NetAug against its plain baseline: several seeds, equal epochs.

    python tools/analysis_tools/compare_accuracy.py
        --pairs NETAUG_CFG PLAIN_CFG [NETAUG_CFG PLAIN_CFG ...]
        [--seeds 0 1 2] [--work-dir work_dirs/accuracy] [--epochs N]
        [--val-interval 1] [--batch-size B] [--times T] [--holdout FRACTION]
        [--threads 1] [--jobs 1] [--cfg-options k=v ...]
        [--netaug-options k=v ...] [--time-limit DURATION|HH:MM]
        [--summarize-only] [--out RESULTS.json] [--plot CURVES.png]

Every (config, seed) is one ``tools/train.py`` run in a child process::

    python tools/train.py CFG --work-dir WORK/<config name>/seed<k>
        --cfg-options <--cfg-options> <schedule, data, checkpoint settings>
        [<--netaug-options>] randomness.seed=<k>

logged to ``train.log`` in its folder. The NetAug model and its baseline get
the same data, schedule and epochs: ``--epochs`` sets ``train_cfg.max_epochs``
and stretches the schedule's epoch boundaries in proportion (a cosine's
``T_max``/``end``, any ``begin``, step ``milestones``, hooks that switch at
an epoch; each change is printed), and validation runs
every ``--val-interval`` epochs (default 1, for the curves) and always after
the last one. The metric of a run is the one of its *final* epoch: no
best-epoch selection (``save_best`` is off, only the last checkpoint is kept).

``--holdout F`` keeps the test split out of everything: the training
annotation file is split, deterministically, into a training part and a
held-out part (validation, every 1/F-th image by sorted image id), written
next to it and named by it and F: ``train.json`` at 0.2 gives
``train_minus_holdout_1of5.json`` and ``train_holdout_1of5.json``. Without
it, runs validate on the config's own val set (the cards configs: the test
split).

A finished run (``done.json`` in its folder) is not trained again, an
interrupted one resumes from its last checkpoint, so the tool can be stopped
and started again with the same arguments; ``--summarize-only`` only reads the
runs. Two sittings on one work dir never train the same run at once: a run
that another process trains (it holds the lock of the run's folder, until its
training ends) is left for a later sitting. ``--time-limit`` (a duration, or a
clock time such as ``00:45``) ends a sitting on time with little lost: each
training stops just after its last checkpoint (and validation) that comes
before the limit, judged by the time between its checkpoints.

The report (a markdown table for docs/benchmarks.md: per-seed final mAP and
AP50, mean +- sample std over seeds, NetAug - plain) is printed and saved
with ``--out`` (JSON, plus the markdown beside it); ``--plot`` draws the
validation mAP and AP50 per epoch (mean over seeds, min-max band).
"""
import argparse
import os.path as osp
import re
import shlex
import sys
import time
from typing import Optional, Sequence

from mmdet_netaug.comparison import (DEFAULT_KEYS, DEFAULT_SEEDS,
                                   config_name, find_seeds, format_report,
                                   pairs_of, plan_runs, plot_curves,
                                   report_header, settings_mismatches,
                                   summarize, train_all,
                                   unrecorded_configs)
from mmdet_netaug.utils.records import device_description, write_json

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN_SCRIPT = osp.join(REPO, 'tools', 'train.py')
EXIT_TIME_LIMIT = 75  # EX_TEMPFAIL: not failed, to be run again


# -- arguments -------------------------------------------------------------
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train NetAug and its plain baseline for several seeds '
        'at equal epochs and report mean +- std of the final mAP and AP50',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        '--pairs', nargs='+', required=True, metavar='CFG',
        help='NETAUG_CONFIG PLAIN_CONFIG, once per pair')
    parser.add_argument(
        '--seeds', nargs='+', type=int,
        help='seeds (randomness.seed) of the runs; default: 0 1 2, or with '
        '--summarize-only every seed<k> folder found')
    parser.add_argument('--work-dir', default='work_dirs/accuracy',
                        help='runs go to WORK_DIR/<config name>/seed<k>')
    parser.add_argument(
        '--epochs', type=int, help='training epochs of every run: '
        'train_cfg.max_epochs, and the epoch-based schedule stretched in '
        'proportion (a cosine\'s T_max/end, begin, milestones, epoch '
        'switches of hooks) (default: the config\'s max_epochs)')
    parser.add_argument('--val-interval', type=int, default=1,
                        help='validate every N epochs (the last epoch is '
                        'always validated)')
    parser.add_argument('--batch-size', type=int,
                        help='train_dataloader.batch_size (default: the '
                        'config\'s; the learning rate is not rescaled)')
    parser.add_argument('--times', type=int,
                        help='dataset repeats per epoch '
                        '(train_dataloader.dataset.times of RepeatDataset)')
    parser.add_argument(
        '--holdout', type=float, metavar='FRACTION',
        help='validate on this fraction of the training images (every '
        '1/F-th by sorted image id) and train on the rest, never on the '
        'test split; default: validate on the config\'s val set')
    parser.add_argument(
        '--threads', type=int, help='OMP/MKL threads of each training '
        'process (default: 1 on CPU; with CUDA the CPU cores divided by '
        '--jobs)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='trainings run at the same time')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], action='extend',
        metavar='KEY=VALUE',
        help='overrides for every run, as tools/train.py takes them (may '
        'be given more than once)')
    parser.add_argument(
        '--netaug-options', nargs='+', default=[], action='extend',
        metavar='KEY=VALUE',
        help='overrides for the NetAug runs only (e.g. '
        'model.aug_loss_weight=0.5)')
    parser.add_argument(
        '--train', choices=('both', 'plain', 'netaug'), default='both',
        help='which arms to train (the report covers both, whatever has '
        'finished): "plain" e.g. to settle the baseline\'s schedule on '
        '--holdout before the longer NetAug runs')
    parser.add_argument(
        '--time-limit', type=duration, metavar='DURATION',
        help='stop by this time from now (seconds, or e.g. 90m, 2.5h) or '
        'at this local clock time (HH:MM, its next occurrence), '
        'each training just after its last checkpoint in time (and that '
        'epoch\'s validation), so that the next sitting resumes with little '
        'lost; runs not started by then wait for the next sitting; the '
        'report covers what finished, and the exit status is 75')
    parser.add_argument('--summarize-only', action='store_true',
                        help='train nothing: read the runs in WORK_DIR and '
                        'report (warning where the runs were trained with '
                        'other settings than this command gives; an error, '
                        'writing nothing, where a config is neither a file '
                        'nor trained in WORK_DIR, or none was trained there)')
    parser.add_argument('--map-key', default=DEFAULT_KEYS['mAP'],
                        help='scalars.json key of the mAP')
    parser.add_argument('--ap50-key', default=DEFAULT_KEYS['AP50'],
                        help='scalars.json key of the AP50')
    parser.add_argument('--out', help='results JSON (the markdown report is '
                        'saved beside it as .md); default: '
                        'WORK_DIR/results.json')
    parser.add_argument('--plot', help='curves PNG; default: '
                        'WORK_DIR/curves.png')
    args = parser.parse_args(argv)
    if len(args.pairs) % 2:
        parser.error('--pairs takes NETAUG_CONFIG PLAIN_CONFIG pairs: got an '
                     f'odd number of configs ({len(args.pairs)})')
    for name in ('epochs', 'val_interval', 'batch_size', 'times', 'threads',
                 'jobs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.holdout is not None and not 0 < args.holdout < 1:
        parser.error('--holdout must be a fraction in (0, 1)')
    for option in args.cfg_options + args.netaug_options:
        if '=' not in option:
            parser.error(f'option {option!r} is not KEY=VALUE')
    if args.seeds is not None and len(set(args.seeds)) != len(args.seeds):
        parser.error('--seeds has duplicates')
    if args.seeds is not None and min(args.seeds) < 0:
        parser.error(f'--seeds must be >= 0, got {min(args.seeds)}')
    args.out = args.out or osp.join(args.work_dir, 'results.json')
    args.plot = args.plot or osp.join(args.work_dir, 'curves.png')
    args.train_script = TRAIN_SCRIPT  # what each run executes
    args.stop_by = None if args.time_limit is None else \
        time.time() + args.time_limit
    return args


def duration(text: str, now: Optional[float] = None) -> float:
    """Seconds from '5400', '5400s', '90m' or '1.5h', or until a local
    clock time 'HH:MM' (its next occurrence: '00:45' at 22:30 is in 2 h 15
    min), for a sitting that must end at a known time."""
    clock = re.fullmatch(r'([01]?\d|2[0-3]):([0-5]\d)', text.strip())
    if clock:
        now = time.time() if now is None else now
        local = time.localtime(now)
        wanted = int(clock.group(1)) * 3600 + int(clock.group(2)) * 60
        since_midnight = local.tm_hour * 3600 + local.tm_min * 60 + \
            local.tm_sec + now % 1
        return (wanted - since_midnight) % 86400 or 86400.0
    found = re.fullmatch(r'(\d+(?:\.\d+)?)([smh]?)', text.strip())
    if not found or float(found.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f'{text!r} is neither a duration (seconds, or a number with s, '
            'm or h, e.g. 90m) nor a clock time (HH:MM, e.g. 00:45)')
    return float(found.group(1)) * {'': 1, 's': 1, 'm': 60,
                                    'h': 3600}[found.group(2)]


# -- main ------------------------------------------------------------------
def main(argv: Optional[Sequence[str]] = None) -> dict:
    start = time.time()
    args = parse_args(argv)
    command = shlex.join(['python', osp.relpath(osp.abspath(__file__))
                          if not osp.relpath(__file__).startswith('..')
                          else osp.abspath(__file__),
                          *(sys.argv[1:] if argv is None else argv)])
    print(command, flush=True)
    device = device_description()
    pairs = pairs_of(args)
    names = [config_name(c) for pair in pairs for c in pair]
    ok, left, mismatches = True, 0, []
    if args.summarize_only:
        configs = [c for pair in pairs for c in pair]
        unrecorded = unrecorded_configs(args.work_dir, configs)
        # a config neither on disk nor trained, or no runs at all: a typo,
        # found before anything is written over
        typos = [c for c in unrecorded if not osp.isfile(c)]
        if typos or len(set(unrecorded)) == len(set(configs)):
            raise SystemExit(
                f'Error: {args.work_dir} holds no runs of '
                f'{", ".join(typos or unrecorded)} (no <config name>/seed<k> '
                'folder): check the config names and --work-dir; no report '
                'was written')
        for config in unrecorded:  # an arm not trained yet
            print(f'warning: {args.work_dir} holds no runs of {config} yet',
                  flush=True)
        seeds = args.seeds if args.seeds is not None else \
            find_seeds(args.work_dir, names)
        # the settings this command states, against the runs' records
        try:
            planned, _ = plan_runs(argparse.Namespace(
                **dict(vars(args), seeds=seeds, train='both')))
        except (FileNotFoundError, ValueError, SystemExit) as error:
            planned = []
            mismatches = [f'the settings of this command cannot be '
                          f'planned: {error}']
        mismatches += settings_mismatches(planned)
        for line in mismatches[:5]:
            print(f'warning: not this command\'s settings: {line}',
                  flush=True)
        if len(mismatches) > 5:
            print(f'warning: ... {len(mismatches)} runs in all', flush=True)
    else:
        seeds = args.seeds if args.seeds is not None else list(DEFAULT_SEEDS)
        try:
            runs, notes = plan_runs(args)
        except (FileNotFoundError, ValueError) as error:
            raise SystemExit(f'Error: {error}') from None
        for warning in notes['warnings']:
            print(f'warning: {warning}', flush=True)
        for name, split in notes.get('holdout', {}).items():
            print(f'holdout ({name}): {split["train_images"]} training / '
                  f'{split["holdout_images"]} held-out images -> '
                  f'{split["train_file"]}, {split["holdout_file"]}',
                  flush=True)
        ok, left = train_all(runs, args, command, device)
    keys = dict(mAP=args.map_key, AP50=args.ap50_key)
    try:
        summary = summarize(pairs, seeds, args.work_dir, keys, args.epochs)
    except ValueError as error:  # a metric key no run logged
        raise SystemExit(f'Error: {error}') from None
    wall_time = time.time() - start
    report = format_report(
        summary, report_header(summary, command, device, wall_time,
                               mismatches))
    report += f'\n\nCurves: {args.plot}\n'
    print('\n' + report, flush=True)
    summary.update(command=command, device=device, wall_time_s=wall_time,
                   holdout=args.holdout,
                   # --summarize-only: where the runs' own settings differ
                   settings_differ_from_runs=mismatches, settings=dict(
                       epochs=args.epochs, val_interval=args.val_interval,
                       batch_size=args.batch_size, times=args.times,
                       cfg_options=args.cfg_options,
                       netaug_options=args.netaug_options),
                   report_markdown=report, plot=args.plot)
    write_json(args.out, summary)
    with open(osp.splitext(args.out)[0] + '.md', 'w') as f:
        f.write(report)
    plot_curves(summary, args.plot)  # after the numbers are safe on disk
    print(f'saved {args.out}, {osp.splitext(args.out)[0]}.md, {args.plot}')
    if not ok:
        raise SystemExit('some runs failed (see above)')
    if left:
        print(f'time limit: {left} run(s) left unfinished; run again with '
              'the same arguments to resume', flush=True)
        raise SystemExit(EXIT_TIME_LIMIT)
    return summary


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:  # the message is printed, no traceback
        sys.exit(130)
