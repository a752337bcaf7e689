"""Accuracy of NetAug against its plain baseline: several seeds, equal epochs.

    python tools/analysis_tools/compare_accuracy.py
        --pairs NETAUG_CFG PLAIN_CFG [NETAUG_CFG PLAIN_CFG ...]
        [--seeds 0 1 2] [--work-dir work_dirs/accuracy] [--epochs N]
        [--val-interval 1] [--batch-size B] [--times T] [--holdout FRACTION]
        [--threads 1] [--jobs 1] [--cfg-options k=v ...]
        [--netaug-options k=v ...] [--summarize-only]
        [--out RESULTS.json] [--plot CURVES.png]

Every (config, seed) is one ``tools/train.py`` run in a child process::

    python tools/train.py CFG --work-dir WORK/<config name>/seed<k>
        --cfg-options <--cfg-options> <schedule, data, checkpoint settings>
        [<--netaug-options>] randomness.seed=<k>

logged to ``train.log`` in its folder. The NetAug model and its baseline get
the same data, schedule and epochs: ``--epochs`` sets ``train_cfg.max_epochs``
and the cosine scheduler's ``T_max``/``end`` together, and validation runs
every ``--val-interval`` epochs (default 1, for the curves) and always after
the last one. The metric of a run is the one of its *final* epoch: no
best-epoch selection (``save_best`` is off, only the last checkpoint is kept).

``--holdout F`` keeps the test split out of everything: the training
annotation file is split, deterministically, into ``train_minus_holdout.json``
(training) and ``holdout.json`` (validation, every 1/F-th image by sorted
image id), written next to it. Without it, runs validate on the config's own
val set (the cards configs: the test split).

A finished run (``done.json`` in its folder) is not trained again, an
interrupted one resumes from its last checkpoint, so the tool can be stopped
and started again with the same arguments; ``--summarize-only`` only reads the
runs. The report (a markdown table for docs/benchmarks.md: per-seed final
mAP and AP50, mean +- sample std over seeds, NetAug - plain) is printed and
saved with ``--out`` (JSON, plus the markdown beside it); ``--plot`` draws the
validation mAP and AP50 per epoch (mean over seeds, min-max band).
"""
import argparse
import json
import math
import os
import os.path as osp
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN_SCRIPT = osp.join(REPO, 'tools', 'train.py')
ROLES = ('netaug', 'plain')
ROLE_TITLES = {'netaug': 'NetAug', 'plain': 'plain'}


def role_titles(entry: dict) -> dict:
    """The titles of a pair's two models: NetAug and plain, or for a pair
    of two other arms (e.g. NetAug + KD against KD) treated and baseline."""
    names = [entry[role]['name'] for role in ROLES]
    if names[0].startswith('netaug') and not names[0].startswith(
            'netaug_kd') and not names[1].startswith(('netaug', 'kd')):
        return dict(ROLE_TITLES)
    return {'netaug': 'treated', 'plain': 'baseline'}
DEFAULT_SEEDS = (0, 1, 2)
# the two reported metrics: short name -> default key in scalars.json
METRICS = ('mAP', 'AP50')
DEFAULT_KEYS = {'mAP': 'coco/bbox_mAP', 'AP50': 'coco/bbox_mAP_50'}
RUN_FILE, DONE_FILE, LOG_FILE = 'run.json', 'done.json', 'train.log'
HOLDOUT_TRAIN_NAME = 'train_minus_holdout.json'
HOLDOUT_VAL_NAME = 'holdout.json'


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
        'train_cfg.max_epochs and the cosine scheduler\'s T_max/end '
        '(default: the config\'s max_epochs)')
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
        'process (default: 1 on CPU, unset with CUDA)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='trainings run at the same time')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
        help='overrides for every run, as tools/train.py takes them')
    parser.add_argument(
        '--netaug-options', nargs='+', default=[], metavar='KEY=VALUE',
        help='overrides for the NetAug runs only (e.g. '
        'model.aug_loss_weight=0.5)')
    parser.add_argument('--summarize-only', action='store_true',
                        help='train nothing: read the runs in WORK_DIR and '
                        'report')
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
    args.out = args.out or osp.join(args.work_dir, 'results.json')
    args.plot = args.plot or osp.join(args.work_dir, 'curves.png')
    return args


def parse_cfg_options(options: Sequence[str]) -> dict:
    """``KEY=VALUE`` strings to the dict ``tools/train.py`` merges (the same
    parsing: mmengine's ``DictAction``)."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--o', *options]).o if options else {}


def config_name(config: str) -> str:
    """The run folder name of a config: its file name without ``.py``."""
    return osp.splitext(osp.basename(config))[0]


# -- holdout split ---------------------------------------------------------
def holdout_mask(num: int, fraction: float) -> List[bool]:
    """Which of ``num`` sorted items are held out: evenly spaced, exactly
    ``floor(num * fraction)`` of them; for ``fraction = 1/k`` every k-th
    item (the k-th, 2k-th, ...)."""
    f = Fraction(fraction).limit_denominator(10000)  # 0.2 -> 1/5 exactly
    return [math.floor((i + 1) * f) > math.floor(i * f) for i in range(num)]


def split_holdout(ann_file: str, fraction: float) -> Tuple[str, str, dict]:
    """Split a COCO annotation file into a training part and a held-out part.

    Images are sorted by id and every ``1/fraction``-th one is held out
    (:func:`holdout_mask`); annotations follow their image; everything else
    (``categories``, ``info``, ...) is copied to both. The files are written
    next to ``ann_file`` as ``train_minus_holdout.json`` and
    ``holdout.json`` (atomically, and only when their content changes, so
    concurrent users of the folder never see half a file).

    Args:
        ann_file (str): The COCO JSON of the training split.
        fraction (float): Held-out fraction, in (0, 1).

    Returns:
        tuple[str, str, dict]: The training file, the held-out file and
        counts (``train_images``, ``holdout_images``, ``train_annotations``,
        ``holdout_annotations``).
    """
    with open(ann_file) as f:
        coco = json.load(f)
    images = sorted(coco['images'], key=lambda image: image['id'])
    mask = holdout_mask(len(images), fraction)
    held = {image['id'] for image, out in zip(images, mask) if out}
    if not held or len(held) == len(images):
        raise ValueError(f'--holdout {fraction} of {len(images)} images of '
                         f'{ann_file} leaves one side empty')
    parts = {}
    for name, keep in ((HOLDOUT_TRAIN_NAME, lambda i: i not in held),
                       (HOLDOUT_VAL_NAME, lambda i: i in held)):
        part = {k: v for k, v in coco.items()
                if k not in ('images', 'annotations')}
        part['images'] = [im for im in images if keep(im['id'])]
        part['annotations'] = [a for a in coco.get('annotations', [])
                               if keep(a['image_id'])]
        parts[name] = part
    folder = osp.dirname(osp.abspath(ann_file))
    paths = []
    for name, part in parts.items():
        path = osp.join(folder, name)
        _write_if_changed(path, json.dumps(part))
        paths.append(path)
    train, val = parts[HOLDOUT_TRAIN_NAME], parts[HOLDOUT_VAL_NAME]
    counts = dict(train_images=len(train['images']),
                  holdout_images=len(val['images']),
                  train_annotations=len(train['annotations']),
                  holdout_annotations=len(val['annotations']))
    return paths[0], paths[1], counts


def _write_if_changed(path: str, text: str) -> None:
    if osp.isfile(path):
        with open(path) as f:
            if f.read() == text:
                return
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


# -- planning the runs -----------------------------------------------------
def _leaf_dataset(dataset, key: str):
    """The dataset under wrappers (RepeatDataset, ...) and its dotted key."""
    while isinstance(dataset, dict) and 'dataset' in dataset:
        dataset, key = dataset['dataset'], f'{key}.dataset'
    if not isinstance(dataset, dict) or 'datasets' in dataset:
        raise ValueError(f'{key}: expected one dataset (ConcatDataset is not '
                         'supported by --holdout)')
    return dataset, key


def _resolve(data_root: str, path: str) -> str:
    """A dataset path as mmengine resolves it (relative to data_root)."""
    if not data_root or osp.isabs(path) or '://' in path:
        return path
    return osp.join(data_root, path)


def _relative_to(path: str, data_root: str) -> str:
    if data_root:
        rel = osp.relpath(path, osp.abspath(data_root))
        if not rel.startswith('..'):
            return rel
    return osp.relpath(path) if not osp.relpath(path).startswith('..') \
        else path


def _opt(key: str, value) -> str:
    """One ``KEY=VALUE`` for tools/train.py's ``--cfg-options``."""
    return f'{key}={"None" if value is None else value}'


def schedule_options(cfg, epochs: int, val_interval: int,
                     batch_size: Optional[int] = None,
                     times: Optional[int] = None) -> Tuple[List[str], list]:
    """``--cfg-options`` for the schedule, the data size and the
    checkpoints; returns them and warnings."""
    options, warnings = [], []
    options += [_opt('train_cfg.max_epochs', epochs),
                _opt('train_cfg.val_interval', val_interval)]
    schedulers = cfg.get('param_scheduler') or []
    is_list = isinstance(schedulers, (list, tuple))
    for i, sched in enumerate(schedulers if is_list else [schedulers]):
        prefix = f'param_scheduler.{i}' if is_list else 'param_scheduler'
        by_epoch = sched.get('by_epoch', True)
        if 'Cosine' in str(sched.get('type')) and by_epoch:
            options.append(_opt(f'{prefix}.T_max', epochs))
            options.append(_opt(f'{prefix}.end', epochs))
        elif by_epoch and sched.get('end', math.inf) not in (epochs, math.inf):
            warnings.append(f'{prefix} ({sched.get("type")}) ends at epoch '
                            f'{sched["end"]}, left as it is')
    if batch_size is not None:
        options.append(_opt('train_dataloader.batch_size', batch_size))
    if times is not None:
        if 'times' not in cfg.train_dataloader.dataset:
            raise ValueError('--times: train_dataloader.dataset is not a '
                             'RepeatDataset')
        options.append(_opt('train_dataloader.dataset.times', times))
    # only the final checkpoint (resume point) is kept; no best-epoch pick
    options += [_opt('default_hooks.checkpoint.interval', val_interval),
                _opt('default_hooks.checkpoint.max_keep_ckpts', 1),
                _opt('default_hooks.checkpoint.save_best', None)]
    return options, warnings


def holdout_options(cfg, fraction: float) -> Tuple[List[str], dict]:
    """Split the config's training annotations (:func:`split_holdout`) and
    return the ``--cfg-options`` that train on the rest and validate on the
    held-out images, with a description of the split."""
    train, train_key = _leaf_dataset(cfg.train_dataloader.dataset,
                                     'train_dataloader.dataset')
    root = train.get('data_root') or ''
    ann_file = _resolve(root, train['ann_file'])
    train_file, val_file, counts = split_holdout(ann_file, fraction)
    _, val_key = _leaf_dataset(cfg.val_dataloader.dataset,
                               'val_dataloader.dataset')
    options = [_opt(f'{train_key}.ann_file', _relative_to(train_file, root)),
               _opt(f'{val_key}.data_root', root),
               _opt(f'{val_key}.ann_file', _relative_to(val_file, root))]
    for name, prefix in (train.get('data_prefix') or {}).items():
        options.append(_opt(f'{val_key}.data_prefix.{name}', prefix))
    evaluators = cfg.get('val_evaluator')
    is_list = isinstance(evaluators, (list, tuple))
    for i, metric in enumerate(evaluators if is_list else [evaluators]):
        if isinstance(metric, dict) and 'ann_file' in metric:
            key = f'val_evaluator.{i}' if is_list else 'val_evaluator'
            options.append(_opt(f'{key}.ann_file', _resolve(
                root, _relative_to(val_file, root))))
    split = dict(fraction=fraction, source=ann_file, train_file=train_file,
                 holdout_file=val_file, **counts)
    return options, split


def root_of(cfg) -> str:
    """The ``data_root`` of the config's (leaf) training dataset."""
    train, _ = _leaf_dataset(cfg.train_dataloader.dataset, 'train')
    return train.get('data_root') or ''


def val_ann_file(cfg) -> Optional[str]:
    """The validation annotation file of a config, for the report."""
    try:
        val, _ = _leaf_dataset(cfg.val_dataloader.dataset, 'val')
        return _resolve(val.get('data_root') or '', val['ann_file'])
    except (KeyError, ValueError, AttributeError):
        return None


@dataclass
class Run:
    """One training: a config, its role in a pair, a seed."""
    role: str
    config: str
    seed: int
    run_dir: str
    options: List[str] = field(default_factory=list)
    epochs: Optional[int] = None
    val_file: Optional[str] = None
    holdout: Optional[dict] = None

    @property
    def name(self) -> str:
        return config_name(self.config)

    def train_args(self) -> List[str]:
        """tools/train.py's arguments (after the script)."""
        return [self.config, '--work-dir', self.run_dir, '--cfg-options',
                *self.options]


def pairs_of(args) -> List[Tuple[str, str]]:
    return [(args.pairs[i], args.pairs[i + 1])
            for i in range(0, len(args.pairs), 2)]


def find_seeds(work_dir: str, names: Sequence[str]) -> List[int]:
    """Seeds of the ``seed<k>`` folders of these configs in ``work_dir``."""
    seeds = set()
    for name in names:
        folder = osp.join(work_dir, name)
        for entry in os.listdir(folder) if osp.isdir(folder) else []:
            if entry.startswith('seed') and entry[4:].isdigit():
                seeds.add(int(entry[4:]))
    return sorted(seeds)


def plan_runs(args) -> Tuple[List[Run], dict]:
    """Every run to train, in the order they start (seed by seed, so that an
    interrupted comparison has both models of the early seeds), and notes
    (holdout split, warnings)."""
    from mmengine.config import Config
    user = parse_cfg_options(args.cfg_options)
    netaug = parse_cfg_options(args.netaug_options)
    notes = {'warnings': []}
    runs_by_config: Dict[str, tuple] = {}
    for pair in pairs_of(args):
        for role, config in zip(ROLES, pair):
            name = config_name(config)
            cfg = Config.fromfile(config)
            cfg.merge_from_dict(user)
            role_options = list(args.cfg_options)
            if role == 'netaug':
                cfg.merge_from_dict(netaug)
            epochs = args.epochs or cfg.train_cfg.max_epochs
            options, warnings = schedule_options(
                cfg, epochs, args.val_interval, args.batch_size, args.times)
            notes['warnings'] += [f'{name}: {w}' for w in warnings]
            role_options += options
            val_file, split = val_ann_file(cfg), None
            if args.holdout is not None:
                options, split = holdout_options(cfg, args.holdout)
                role_options += options
                val_file = _resolve(root_of(cfg), _relative_to(
                    split['holdout_file'], root_of(cfg)))
                notes.setdefault('holdout', {})[name] = split
            if role == 'netaug':
                role_options += list(args.netaug_options)
            plan = (osp.normpath(config), role_options, epochs, val_file,
                    split)
            if name in runs_by_config and runs_by_config[name][:2] != \
                    plan[:2]:
                raise SystemExit(
                    f'{config}: two configs (or one config in both roles) '
                    f'would share the run folder {name}/ with different '
                    'options')
            runs_by_config[name] = plan
    runs = []
    seeds = args.seeds if args.seeds is not None else list(DEFAULT_SEEDS)
    roles = {config_name(c): r for pair in pairs_of(args)
             for r, c in zip(ROLES, pair)}
    for seed in seeds:
        for name, (config, options, epochs, val_file, split) in \
                runs_by_config.items():
            runs.append(Run(roles[name], config, seed,
                            osp.join(args.work_dir, name, f'seed{seed}'),
                            options + [_opt('randomness.seed', seed)],
                            epochs, val_file, split))
    return runs, notes


# -- running ---------------------------------------------------------------
def device_description() -> str:
    """'cuda: <GPU name>' or 'cpu: <CPU model>, <n> cores'."""
    try:
        import torch
        if torch.cuda.is_available():
            return f'cuda: {torch.cuda.get_device_name(0)}'
    except ImportError:
        pass
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'cpu: {model}, {os.cpu_count()} cores'


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(path: str, data) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def run_state(run: Run) -> str:
    """'finished', 'resume' (checkpoint there), 'restart' or 'new'.

    Raises SystemExit when the folder holds a run of other settings."""
    recorded = _read_json(osp.join(run.run_dir, RUN_FILE))
    if recorded is None:
        return 'new'
    if (osp.normpath(recorded.get('config', '')) != run.config
            or recorded.get('options') != run.options):
        raise SystemExit(
            f'{run.run_dir} holds a run of other settings:\n'
            f'  there: {recorded.get("config")} {recorded.get("options")}\n'
            f'  now:   {run.config} {run.options}\n'
            'use another --work-dir, or delete that folder')
    done = _read_json(osp.join(run.run_dir, DONE_FILE))
    if done is not None and done.get('returncode') == 0:
        return 'finished'
    if osp.isfile(osp.join(run.run_dir, 'last_checkpoint')):
        return 'resume'
    return 'restart'


class Launcher:
    """Runs trainings as child processes, ``jobs`` at a time, and stops
    them all (process groups: the data loader workers too) on Ctrl-C."""

    def __init__(self, threads: Optional[int], invocation: str, device: str):
        self.env = dict(os.environ, PYTHONUNBUFFERED='1')
        if threads is not None:
            for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS',
                        'OPENBLAS_NUM_THREADS'):
                self.env[var] = str(threads)
        self.invocation = invocation
        self.device = device
        self.lock = threading.Lock()
        self.procs: Dict[int, subprocess.Popen] = {}
        self.stopping = False

    def command(self, run: Run, resume: bool = False) -> List[str]:
        script = osp.relpath(TRAIN_SCRIPT)
        script = TRAIN_SCRIPT if script.startswith('..') else script
        return [sys.executable, script, *run.train_args()] + \
            (['--resume'] if resume else [])

    def train(self, run: Run, resume: bool) -> dict:
        if self.stopping:
            return dict(returncode=None, cancelled=True)
        os.makedirs(run.run_dir, exist_ok=True)
        command = self.command(run, resume)
        _write_json(osp.join(run.run_dir, RUN_FILE), dict(
            config=run.config, role=run.role, seed=run.seed,
            epochs=run.epochs, options=run.options, val_file=run.val_file,
            holdout=run.holdout,
            command=shlex.join(command), invocation=self.invocation,
            device=self.device, threads=self.env.get('OMP_NUM_THREADS')))
        start = time.time()
        with open(osp.join(run.run_dir, LOG_FILE), 'a') as log:
            log.write(f'\n# {time.strftime("%Y-%m-%d %H:%M:%S")} '
                      f'{shlex.join(command)}\n')
            log.flush()
            with self.lock:
                if self.stopping:
                    return dict(returncode=None, cancelled=True)
                proc = subprocess.Popen(command, stdout=log,
                                        stderr=subprocess.STDOUT,
                                        env=self.env, start_new_session=True)
                self.procs[proc.pid] = proc
            returncode = proc.wait()
            with self.lock:
                self.procs.pop(proc.pid, None)
        # written after every attempt (returncode 0: finished), so that the
        # training time adds up over interruptions
        done = dict(returncode=returncode, interrupted=self.stopping,
                    train_time_s=time.time() - start, resumed=resume,
                    ended=time.strftime('%F %T'))
        previous = _read_json(osp.join(run.run_dir, DONE_FILE)) or {}
        done['train_time_total_s'] = done['train_time_s'] + \
            previous.get('train_time_total_s', 0)
        _write_json(osp.join(run.run_dir, DONE_FILE), done)
        return done

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            procs = list(self.procs.values())
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for proc in procs:
                if proc.poll() is None:
                    try:
                        os.killpg(proc.pid, sig)
                    except ProcessLookupError:
                        pass
            deadline = time.time() + 10
            while time.time() < deadline and any(p.poll() is None
                                                 for p in procs):
                time.sleep(0.2)


def _log_tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def train_all(runs: List[Run], args, invocation: str, device: str) -> bool:
    """Train the runs that are not finished; True if none failed."""
    states = [run_state(run) for run in runs]  # all checked before any starts
    todo = [(r, s) for r, s in zip(runs, states) if s != 'finished']
    print(f'{len(runs) - len(todo)} of {len(runs)} runs already finished, '
          f'{len(todo)} to train ({args.jobs} at a time)', flush=True)
    if not todo:
        return True
    threads = args.threads
    if threads is None:
        import torch
        threads = None if torch.cuda.is_available() else 1
    launcher = Launcher(threads, invocation, device)
    print_lock = threading.Lock()
    counter = iter(range(1, len(todo) + 1))

    failed = []

    def job(run: Run, state: str) -> None:
        if launcher.stopping:
            return
        with print_lock:
            print(f'[{next(counter)}/{len(todo)}] {run.name} seed {run.seed}'
                  f'{" (resumed)" if state == "resume" else ""}: '
                  f'{osp.join(run.run_dir, LOG_FILE)}', flush=True)
        done = launcher.train(run, resume=state == 'resume')
        if done.get('cancelled') or launcher.stopping:
            return
        metrics = read_val_metrics(run.run_dir)
        last = max(metrics) if metrics else None
        values = metrics.get(last, {}) if last else {}
        log = osp.join(run.run_dir, LOG_FILE)
        with print_lock:
            if done['returncode'] == 0:
                print(f'  done {run.name} seed {run.seed} in '
                      f'{done["train_time_s"]:.0f} s: epoch {last} '
                      f'{args.map_key}={values.get(args.map_key)} '
                      f'{args.ap50_key}={values.get(args.ap50_key)}',
                      flush=True)
            else:
                failed.append(run)
                print(f'  FAILED {run.name} seed {run.seed} (exit '
                      f'{done["returncode"]}), end of {log}:\n'
                      f'{_log_tail(log)}', flush=True)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    try:  # SIGTERM stops the trainings as Ctrl-C does
        old_handler = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        old_handler = None
    pool = ThreadPoolExecutor(args.jobs)
    try:
        futures = [pool.submit(job, r, s) for r, s in todo]
        for future in as_completed(futures):
            future.result()
    except KeyboardInterrupt:
        print('interrupted: stopping the trainings (run again with the same '
              'arguments to resume)', flush=True)
        launcher.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
    pool.shutdown()
    return not failed


# -- reading and summarizing -----------------------------------------------
def _read_epochs(run_dir: str, per_epoch) -> Dict[int, object]:
    """Values per epoch from the run's ``scalars.json`` files.

    mmengine writes ``<run_dir>/<timestamp>/vis_data/scalars.json``, one
    folder per start. ``per_epoch(entries)`` turns the log lines of one
    folder into ``{epoch: value}``. The folders are read in time order and
    each replaces the epochs from its first one on, so a resumed run
    continues the interrupted one and a restarted run replaces it.
    """
    values: Dict[int, object] = {}
    if not osp.isdir(run_dir):
        return values
    for stamp in sorted(os.listdir(run_dir)):
        path = osp.join(run_dir, stamp, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        entries = []
        with open(path) as f:
            for line in f:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a kill
        found = per_epoch(entries)
        if found:
            first = min(found)
            values = {e: v for e, v in values.items() if e < first}
            values.update(found)
    return dict(sorted(values.items()))


def read_val_metrics(run_dir: str) -> Dict[int, Dict[str, float]]:
    """Validation metrics per epoch of a run folder: the lines with metric
    keys (``coco/...``, ``pascal_voc/...``), the epoch as ``step`` (or
    ``epoch``)."""

    def per_epoch(entries):
        found = {}
        for entry in entries:
            if not any('/' in key for key in entry):
                continue  # training line (lr, losses)
            epoch = entry.get('epoch', entry.get('step'))
            if epoch is not None:
                found[int(epoch)] = {k: v for k, v in entry.items()
                                     if isinstance(v, (int, float))}
        return found

    return _read_epochs(run_dir, per_epoch)


def read_train_loss(run_dir: str) -> Dict[int, float]:
    """The tiny model's training loss per epoch: the sum of the logged
    ``loss_*`` terms (not the ``aug_`` ones of NetAug's augmented pass),
    averaged over the epoch's logged iterations. Lower at equal epochs
    means the model fits its training data better: NetAug's claim is that
    tiny models underfit and it reduces that."""

    def per_epoch(entries):
        sums: Dict[int, List[float]] = {}
        for entry in entries:
            terms = [v for k, v in entry.items()
                     if k.startswith('loss_') and isinstance(v, (int, float))]
            if terms and 'epoch' in entry:
                sums.setdefault(int(entry['epoch']), []).append(sum(terms))
        return {e: statistics.fmean(v) for e, v in sums.items()}

    return _read_epochs(run_dir, per_epoch)


def mean_std(values: Sequence[float]) -> dict:
    """Mean and sample standard deviation (None with fewer than 2)."""
    values = list(values)
    return dict(values=values, n=len(values),
                mean=statistics.fmean(values) if values else None,
                std=statistics.stdev(values) if len(values) > 1 else None)


def paired_difference(netaug_runs: dict, plain_runs: dict,
                      metric: str) -> dict:
    """NetAug - plain, paired by seed: the per-seed differences over the
    seeds both arms finished (same seed: identical tiny weights at the start
    and the same data order), their mean and its standard error
    ``stdev(d) / sqrt(n)`` (None with fewer than 2 pairs)."""
    per_seed = {}
    for seed, run in netaug_runs.items():
        other = plain_runs.get(seed)
        if other is None or run.get(metric) is None or \
                other.get(metric) is None:
            continue
        per_seed[str(seed)] = run[metric] - other[metric]
    values = list(per_seed.values())
    return dict(per_seed=per_seed, n=len(values),
                mean=statistics.fmean(values) if values else None,
                standard_error=(statistics.stdev(values) / math.sqrt(
                    len(values)) if len(values) > 1 else None))


def last_fifth_change(curve: dict, epochs: Optional[int]) -> dict:
    """How much each metric moved over the last fifth of training: the
    largest minus the smallest value validated at or after epoch
    ``0.8 * epochs`` (a plateau: below 1 point of AP50)."""
    if not epochs or not curve.get('epoch'):
        return {}
    start = 0.8 * epochs
    changes = {}
    for metric in METRICS:
        values = [v for e, v in zip(curve['epoch'], curve.get(metric, []))
                  if e >= start and v is not None]
        if len(values) > 1:
            changes[metric] = max(values) - min(values)
    return changes


def summarize_run(run_dir: str, keys: Dict[str, str],
                  expected_epochs: Optional[int] = None) -> dict:
    """Status, final metrics and curves of one run folder."""
    recorded = _read_json(osp.join(run_dir, RUN_FILE)) or {}
    done = _read_json(osp.join(run_dir, DONE_FILE)) or {}
    metrics = read_val_metrics(run_dir)
    train_loss = read_train_loss(run_dir)
    epochs = recorded.get('epochs') or expected_epochs
    last = max(metrics) if metrics else None
    result = dict(run_dir=run_dir, epochs=epochs, last_epoch=last,
                  train_time_s=done.get('train_time_total_s'),
                  device=recorded.get('device'),
                  val_file=recorded.get('val_file'),
                  holdout=recorded.get('holdout'),
                  invocation=recorded.get('invocation'),
                  curve=dict(epoch=list(metrics), **{
                      m: [metrics[e].get(k) for e in metrics]
                      for m, k in keys.items()}))
    failed = done.get('returncode') not in (None, 0) and \
        not done.get('interrupted')
    if last is None and not osp.isdir(run_dir):
        status = 'missing'
    elif last is None or (epochs is not None and last != epochs):
        status = 'failed' if failed else 'incomplete'
    else:
        status = 'finished'
    result['status'] = status
    for m, k in keys.items():
        result[m] = metrics[last].get(k) if status == 'finished' else None
    result['train_loss'] = train_loss.get(last) \
        if status == 'finished' else None
    result['last_fifth_change'] = last_fifth_change(
        result['curve'], epochs) if status == 'finished' else None
    result['train_loss_curve'] = dict(epoch=list(train_loss),
                                      loss=list(train_loss.values()))
    return result


def summarize(pairs: Sequence[Tuple[str, str]], seeds: Sequence[int],
              work_dir: str, keys: Optional[Dict[str, str]] = None,
              expected_epochs: Optional[int] = None) -> dict:
    """Per pair and model: per-seed final metrics, mean and sample std over
    the finished seeds; per pair the NetAug - plain difference paired by
    seed (:func:`paired_difference`)."""
    keys = keys or dict(DEFAULT_KEYS)
    result = dict(work_dir=work_dir, seeds=list(seeds), keys=keys, pairs=[])
    for pair in pairs:
        entry = {}
        for role, config in zip(ROLES, pair):
            name = config_name(config)
            runs = {seed: summarize_run(
                osp.join(work_dir, name, f'seed{seed}'), keys,
                expected_epochs) for seed in seeds}
            finished = [s for s in seeds if runs[s]['status'] == 'finished']
            model = dict(config=config, name=name,
                         runs={str(s): r for s, r in runs.items()},
                         finished_seeds=finished)
            for m in (*keys, 'train_loss'):
                model[m] = mean_std([runs[s][m] for s in finished
                                     if runs[s][m] is not None])
            entry[role] = model
        entry['difference'] = {
            m: paired_difference(entry['netaug']['runs'],
                                 entry['plain']['runs'], m)
            for m in (*keys, 'train_loss')}
        epochs = {r['last_epoch'] for role in ROLES
                  for r in entry[role]['runs'].values()
                  if r['status'] == 'finished'}
        entry['epochs'] = sorted(epochs)
        result['pairs'].append(entry)
    return result


# -- report ----------------------------------------------------------------
def _pct(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return 'n/a'
    return f'{100 * value:+.1f}' if signed else f'{100 * value:.1f}'


def _num(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return 'n/a'
    return f'{value:+.3f}' if signed else f'{value:.3f}'


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return 'n/a'
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def format_report(summary: dict, header: Sequence[str] = ()) -> str:
    """The markdown report: header lines, then one table of all pairs."""
    lines = [*header, '']
    lines += ['| Pair | Model | Config | Epochs | Seeds | mAP per seed | '
              'mAP mean ± std | AP50 per seed | AP50 mean ± std | '
              'train loss, last epoch |',
              '|---|---|---|---|---|---|---|---|---|---|']
    for index, entry in enumerate(summary['pairs'], 1):
        epochs = ', '.join(map(str, entry['epochs'])) or 'n/a'
        for role in ROLES:
            model = entry[role]
            cells = [str(index), role_titles(entry)[role],
                     f'`{model["name"]}`',
                     epochs,
                     ', '.join(map(str, model['finished_seeds'])) or 'none']
            for m in METRICS:
                stats = model[m]
                per_seed = ' / '.join(_pct(model['runs'][str(s)][m])
                                      for s in model['finished_seeds'])
                std = _pct(stats['std'])
                cells += [per_seed or 'n/a',
                          f'{_pct(stats["mean"])} ± {std}']
            loss = model['train_loss']
            cells.append(f'{_num(loss["mean"])} ± {_num(loss["std"])}')
            lines.append('| ' + ' | '.join(cells) + ' |')
        paired = ', '.join(entry['difference'][METRICS[0]]['per_seed'])
        titles = role_titles(entry)
        cells = [str(index),
                 f'**{titles["netaug"]} − {titles["plain"]}** (paired)', '',
                 '',
                 paired or 'none']
        for m in METRICS:
            diff = entry['difference'][m]
            se = diff['standard_error']
            cells += [' / '.join(_pct(d, signed=True)
                                 for d in diff['per_seed'].values()) or 'n/a',
                      f'**{_pct(diff["mean"], signed=True)}**' + (
                          f' (s.e. {_pct(se)})' if se is not None else '')]
        diff = entry['difference']['train_loss']
        se = diff['standard_error']
        cells.append(f'{_num(diff["mean"], signed=True)}' + (
            f' (s.e. {_num(se)})' if se is not None else ''))
        lines.append('| ' + ' | '.join(cells) + ' |')
    notes = []
    for entry in summary['pairs']:
        for role in ROLES:
            for seed, run in entry[role]['runs'].items():
                if run['status'] == 'missing':
                    notes.append(f'- {entry[role]["name"]} seed {seed}: '
                                 'not trained')
                elif run['status'] != 'finished':
                    notes.append(f'- {entry[role]["name"]} seed {seed}: '
                                 f'{run["status"]} (last validated epoch '
                                 f'{run["last_epoch"]} of {run["epochs"]})')
        if len(entry['epochs']) > 1:
            notes.append(f'- pair {entry["netaug"]["name"]}: runs ended at '
                         f'different epochs {entry["epochs"]}')
    if notes:
        lines += ['', 'Not in the statistics / inconsistent:', *notes]
    plateau = []
    for entry in summary['pairs']:
        for role in ROLES:
            for seed, run in entry[role]['runs'].items():
                change = (run.get('last_fifth_change') or {}).get('AP50')
                if change is not None:
                    plateau.append(f'{entry[role]["name"]} seed {seed}: '
                                   f'{_pct(change)}')
    if plateau:
        lines += ['', 'AP50 range over the last fifth of training (largest '
                  '− smallest validated value; a plateau is below 1.0): '
                  + '; '.join(plateau)]
    return '\n'.join(lines)


def report_header(summary: dict, command: str, device: str,
                  wall_time: float) -> List[str]:
    """Reproduction and context lines of the report, from the runs'
    records (``run.json``) and this invocation."""
    runs = [r for entry in summary['pairs'] for role in ROLES
            for r in entry[role]['runs'].values()]
    devices = sorted({r['device'] for r in runs if r['device']})
    invocations = sorted({r['invocation'] for r in runs if r['invocation']})
    val_files = sorted({r['val_file'] for r in runs if r['val_file']})
    splits = {r['holdout']['holdout_file']: r['holdout'] for r in runs
              if r.get('holdout')}
    train_time = sum(r['train_time_s'] or 0 for r in runs)
    keys = summary['keys']
    lines = ['## NetAug vs plain: final-epoch accuracy', '',
             f'- command: `{command}`']
    lines += [f'- runs trained by: `{inv}`' for inv in invocations
              if inv != command]
    training = f' (training: {", ".join(devices)})' \
        if devices and devices != [device] else ''
    lines += [
        f'- device: {device}{training}',
        f'- wall time: {_duration(wall_time)} (this command); training '
        f'time of all runs: {_duration(train_time)}',
        '- validation set: ' + (', '.join(val_files) or "the configs' own")
        + (' (held out of the training split: the test split is not used)'
           if splits else ''),
        f'- metrics: `{keys["mAP"]}` (mAP) and `{keys["AP50"]}` (AP50) of '
        'the final epoch, x100, no best-epoch selection; mean ± sample std '
        'over the seeds; NetAug − plain: paired by seed (same seed = identical '
        'tiny weights at the start and the same data order), each seed\'s '
        'difference and their mean over the seeds both arms finished (s.e.: '
        'stdev of the differences / sqrt(n))',
        '- train loss: the tiny model\'s summed training loss terms '
        '(`loss_*`, not NetAug\'s `aug_loss_*`), mean over the last epoch\'s '
        'logged iterations (train mode, augmented batches): lower = fits '
        'the training data better']
    for split in splits.values():
        lines.append(
            f'- holdout {split["fraction"]}: {split["train_images"]} '
            f'training / {split["holdout_images"]} held-out images of '
            f'{split["source"]} (evenly spaced by sorted image id)')
    return lines


def plot_curves(summary: dict, path: str) -> None:
    """Validation mAP and AP50 per epoch (mean over the seeds, min-max
    band) and the tiny model's training loss per epoch, NetAug vs plain;
    one row per pair."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    pairs = summary['pairs']
    fig, axes = plt.subplots(len(pairs), 3, figsize=(16, 3.8 * len(pairs)),
                             squeeze=False)
    colors = {'netaug': 'tab:red', 'plain': 'tab:blue'}
    for row, entry in enumerate(pairs):
        for col, m in enumerate(METRICS):
            ax = axes[row][col]
            for role in ROLES:
                model = entry[role]
                per_epoch: Dict[int, List[float]] = {}
                for run in model['runs'].values():
                    curve = run['curve']
                    for epoch, value in zip(curve['epoch'], curve[m]):
                        if value is not None:
                            per_epoch.setdefault(epoch, []).append(
                                100 * value)
                if not per_epoch:
                    continue
                epochs = sorted(per_epoch)
                values = [per_epoch[e] for e in epochs]
                mean = [statistics.fmean(v) for v in values]
                seeds = max(len(v) for v in values)
                ax.plot(epochs, mean, marker='o' if len(epochs) < 3 else '',
                        color=colors[role],
                        label=f'{role_titles(entry)[role]} ({model["name"]}, '
                        f'{seeds} seed{"s" if seeds != 1 else ""})')
                ax.fill_between(epochs, [min(v) for v in values],
                                [max(v) for v in values], color=colors[role],
                                alpha=0.2, linewidth=0)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel('epoch')
            ax.set_ylabel(f'{m} (%, {summary["keys"][m]})')
            ax.set_title(f'{entry["netaug"]["name"]} vs '
                         f'{entry["plain"]["name"]}: validation {m}',
                         fontsize=9)
            ax.grid(alpha=0.3)
            if ax.has_data():
                ax.legend(fontsize=8)
        ax = axes[row][2]
        for role in ROLES:
            per_epoch = {}
            for run in entry[role]['runs'].values():
                curve = run.get('train_loss_curve') or {}
                for epoch, value in zip(curve.get('epoch', []),
                                        curve.get('loss', [])):
                    per_epoch.setdefault(epoch, []).append(value)
            if per_epoch:
                epochs = sorted(per_epoch)
                ax.plot(epochs, [statistics.fmean(per_epoch[e])
                                 for e in epochs], color=colors[role],
                        label=role_titles(entry)[role])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel('epoch')
        ax.set_ylabel('tiny model training loss')
        ax.set_title('training loss of the tiny model (mean over seeds)',
                     fontsize=9)
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
    ok = True
    if args.summarize_only:
        seeds = args.seeds if args.seeds is not None else \
            find_seeds(args.work_dir, names)
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
        ok = train_all(runs, args, command, device)
    keys = dict(mAP=args.map_key, AP50=args.ap50_key)
    summary = summarize(pairs, seeds, args.work_dir, keys, args.epochs)
    wall_time = time.time() - start
    report = format_report(
        summary, report_header(summary, command, device, wall_time))
    report += f'\n\nCurves: {args.plot}\n'
    print('\n' + report, flush=True)
    summary.update(command=command, device=device, wall_time_s=wall_time,
                   holdout=args.holdout, settings=dict(
                       epochs=args.epochs, val_interval=args.val_interval,
                       batch_size=args.batch_size, times=args.times,
                       cfg_options=args.cfg_options,
                       netaug_options=args.netaug_options),
                   report_markdown=report, plot=args.plot)
    _write_json(args.out, summary)
    with open(osp.splitext(args.out)[0] + '.md', 'w') as f:
        f.write(report)
    plot_curves(summary, args.plot)  # after the numbers are safe on disk
    print(f'saved {args.out}, {osp.splitext(args.out)[0]}.md, {args.plot}')
    if not ok:
        raise SystemExit('some runs failed (see above)')
    return summary


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:  # the message is printed, no traceback
        sys.exit(130)
