"""Planning a comparison: the runs (config, role, seed, options), their
schedule options and the held-out split of the training annotations."""
import argparse
import bisect
import math
import os
import os.path as osp
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.fileio import dump, load
from mmengine.runner.utils import calc_dynamic_intervals

from ..engine.atomic_checkpoint import atomic_write_bytes
from ..utils.config import load_config
from .constants import (DEFAULT_SEEDS, HOLDOUT_TRAIN_NAME, HOLDOUT_VAL_NAME,
                        ROLES)

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
def _holdout_fraction(fraction: float) -> Fraction:
    """The fraction as :func:`holdout_mask` uses it (0.2 -> 1/5 exactly)."""
    return Fraction(fraction).limit_denominator(10000)


def holdout_mask(num: int, fraction: float) -> List[bool]:
    """Which of ``num`` sorted items are held out: evenly spaced, exactly
    ``floor(num * fraction)`` of them; for ``fraction = 1/k`` every k-th
    item (the k-th, 2k-th, ...)."""
    f = _holdout_fraction(fraction)
    return [math.floor((i + 1) * f) > math.floor(i * f) for i in range(num)]


def holdout_names(ann_file: str, fraction: float) -> Tuple[str, str]:
    """The file names of the split of ``ann_file`` at ``fraction``: the
    training part and the held-out part, e.g. ``train_minus_holdout_1of5.json``
    and ``train_holdout_1of5.json`` for ``train.json`` at 0.2. Named by the
    source and the fraction, so that splits of other files or fractions in
    the same folder never overwrite each other, and a run's options (the
    files it trains and validates on) change with the split."""
    stem = osp.splitext(osp.basename(ann_file))[0]
    f = _holdout_fraction(fraction)
    return tuple(name.format(stem=stem, p=f.numerator, q=f.denominator)
                 for name in (HOLDOUT_TRAIN_NAME, HOLDOUT_VAL_NAME))


def split_holdout(ann_file: str, fraction: float) -> Tuple[str, str, dict]:
    """Split a COCO annotation file into a training part and a held-out part.

    Images are sorted by id and every ``1/fraction``-th one is held out
    (:func:`holdout_mask`); annotations follow their image; everything else
    (``categories``, ``info``, ...) is copied to both. The files are written
    next to ``ann_file``, named by :func:`holdout_names` (atomically, and
    only when their content changes, so concurrent users of the folder never
    see half a file).

    Args:
        ann_file (str): The COCO JSON of the training split.
        fraction (float): Held-out fraction, in (0, 1).

    Returns:
        tuple[str, str, dict]: The training file, the held-out file and
        counts (``train_images``, ``holdout_images``, ``train_annotations``,
        ``holdout_annotations``).
    """
    coco = load(ann_file, file_format='json')
    images = sorted(coco['images'], key=lambda image: image['id'])
    mask = holdout_mask(len(images), fraction)
    held = {image['id'] for image, out in zip(images, mask) if out}
    if not held or len(held) == len(images):
        raise ValueError(f'--holdout {fraction} of {len(images)} images of '
                         f'{ann_file} leaves one side empty')
    parts = {}
    train_name, val_name = holdout_names(ann_file, fraction)
    for name, keep in ((train_name, lambda i: i not in held),
                       (val_name, lambda i: i in held)):
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
        _write_if_changed(path, dump(part, file_format='json'))
        paths.append(path)
    train, val = parts[train_name], parts[val_name]
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
    atomic_write_bytes(text.encode('utf-8'), path)


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
    options += _rescaled_schedule(cfg, epochs, warnings)
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


def _rescaled_schedule(cfg, epochs: int, notes: list) -> List[str]:
    """``--cfg-options`` that stretch the config's epoch-based schedule to
    ``epochs``: every epoch boundary of an epoch-based scheduler (``begin``,
    ``end``, a cosine's ``T_max``, ``milestones``), of the validation
    loop's ``dynamic_intervals`` and of the hooks that switch at an epoch
    (``switch_epoch``, ``num_last_epochs``) in proportion, rounded to whole
    epochs; an ``end`` at or past the last epoch ends at ``epochs``. A
    cosine from epoch 0 to the end (the cards configs') gets ``T_max = end
    = epochs``. Iteration-based boundaries (warm-ups) stay. Every other change is said in ``notes``."""
    options = []
    max_epochs = cfg.train_cfg.get('max_epochs') or epochs

    def scaled(value, lowest=0):
        """An epoch boundary in proportion; one after epoch 0 stays after
        it (a 5-epoch warm-up of 300 still ends, and the next scheduler
        begins, at one and the same epoch)."""
        if value == 0:
            return max(lowest, 0)
        return max(lowest, 1, min(epochs, round(value * epochs / max_epochs)))

    schedulers = cfg.get('param_scheduler') or []
    is_list = isinstance(schedulers, (list, tuple))
    for i, sched in enumerate(schedulers if is_list else [schedulers]):
        prefix = f'param_scheduler.{i}' if is_list else 'param_scheduler'
        if not sched.get('by_epoch', True):
            continue
        changes = {}  # in the order of the options before (T_max, end)
        begin = sched.get('begin', 0)
        new_begin = scaled(begin)
        if new_begin != begin:
            changes['begin'] = (begin, new_begin)
        if 'T_max' in sched:
            changes['T_max'] = (sched['T_max'], scaled(sched['T_max'], 1))
        end = sched.get('end', math.inf)
        if end != math.inf:
            new_end = epochs if end >= max_epochs else \
                scaled(end, new_begin + 1)
            changes['end'] = (end, new_end)
        if sched.get('milestones'):
            changes['milestones'] = (list(sched['milestones']), [
                scaled(m, 1) for m in sched['milestones']])
        plain_cosine = begin == 0 and end == max_epochs and \
            sched.get('T_max') == max_epochs
        for field, (old, new) in changes.items():
            if old != new or (plain_cosine and field != 'begin'):
                options.append(_opt(f'{prefix}.{field}', new))
        said = [f'{field} {old} -> {new}'
                for field, (old, new) in changes.items() if old != new]
        if said and not plain_cosine:
            notes.append(f'{prefix} ({sched.get("type")}) stretched from '
                         f'{max_epochs} to {epochs} epochs: '
                         + ', '.join(said))
    dynamic = cfg.train_cfg.get('dynamic_intervals')
    if dynamic:
        # always in the options: the tool reads them to know which epochs
        # validate (validation_rule)
        new = [(scaled(epoch), interval) for epoch, interval in dynamic]
        options.append(_opt('train_cfg.dynamic_intervals', new))
        if new != [tuple(d) for d in dynamic]:
            notes.append(f'train_cfg.dynamic_intervals stretched from '
                         f'{max_epochs} to {epochs} epochs: '
                         f'{[tuple(d) for d in dynamic]} -> {new}')
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        for field in ('switch_epoch', 'num_last_epochs'):
            if isinstance(hook, dict) and field in hook:
                new = scaled(hook[field])
                if new != hook[field]:
                    options.append(_opt(f'custom_hooks.{i}.{field}', new))
                    notes.append(
                        f'custom_hooks.{i} ({hook.get("type")}) stretched '
                        f'from {max_epochs} to {epochs} epochs: {field} '
                        f'{hook[field]} -> {new}')
    return options


def validation_rule(options: Sequence[str], epochs: Optional[int]
                    ) -> Optional[Callable[[int], bool]]:
    """Whether a run's training validates after an epoch (mmengine's
    ``EpochBasedTrainLoop`` with ``val_begin`` 1), from the run's options as
    the planner sets them: every ``train_cfg.val_interval`` epochs and the
    final one, the interval changed by ``train_cfg.dynamic_intervals``; the
    loop picks the interval after epoch k by epoch k + 1, so it validates
    every epoch from a milestone's epoch less one. None when the options
    hold no interval."""
    parsed = parse_cfg_options(list(options or []))
    interval = parsed.get('train_cfg.val_interval')
    if not isinstance(interval, int) or interval < 1:
        return None
    milestones, intervals = calc_dynamic_intervals(
        interval, parsed.get('train_cfg.dynamic_intervals') or None)

    def validates_after(epoch: int) -> bool:
        every = intervals[bisect.bisect(milestones, epoch + 1) - 1]
        return epoch % every == 0 or epoch == epochs

    return validates_after


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

    def train_args(self, extra_options: Sequence[str] = ()) -> List[str]:
        """tools/train.py's arguments (after the script); ``extra_options``:
        ``--cfg-options`` of one sitting only, not the run's settings."""
        return [self.config, '--work-dir', self.run_dir, '--cfg-options',
                *self.options, *extra_options]


# the settings the comparison makes itself, by key (a prefix for the
# scheduler's keys), and the option of this tool that sets them
PLANNED_BY = (
    ('train_cfg.max_epochs', '--epochs'),
    ('param_scheduler', '--epochs (T_max and end follow it)'),
    ('train_cfg.dynamic_intervals', '--epochs (its epochs follow it)'),
    ('train_cfg.val_interval', '--val-interval'),
    ('train_dataloader.batch_size', '--batch-size'),
    ('train_dataloader.dataset.times', '--times'),
    ('default_hooks.checkpoint', 'nothing: the comparison keeps the last '
     'checkpoint only, for resuming'),
    ('randomness.seed', '--seeds'),
    ('train_dataloader', '--holdout (the training part of the split)'),
    ('val_dataloader', '--holdout (the held-out part of the split)'),
    ('val_evaluator', '--holdout (the held-out part of the split)'),
)


def check_overrides(user: dict, planned: dict, source: str) -> None:
    """Refuse a user override (``source``: --cfg-options or
    --netaug-options) of a setting the comparison makes itself: it would be
    silently overridden (or override the plan: the NetAug options come
    last). The same value is fine."""
    for key, value in user.items():
        for planned_key, planned_value in planned.items():
            same = key == planned_key and value == planned_value
            if same or not (key == planned_key
                            or planned_key.startswith(key + '.')):
                continue
            flag = next((by for prefix, by in PLANNED_BY
                         if planned_key == prefix
                         or planned_key.startswith(prefix + '.')),
                        'its own options')
            raise ValueError(
                f'{source} {key}={value}: the comparison sets {planned_key} '
                f'itself (to {planned_value}); set it with {flag}')


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


def unrecorded_configs(work_dir: str, configs: Sequence[str]) -> List[str]:
    """The configs with no ``seed<k>`` folder in ``work_dir``: a report
    shows them as never trained, which from a typo in a config's name or
    in ``work_dir`` is a wrong report, not an empty one."""
    return [config for config in configs
            if not find_seeds(work_dir, [config_name(config)])]


def plan_runs(args) -> Tuple[List[Run], dict]:
    """Every run to train, in the order they start (seed by seed, so that an
    interrupted comparison has both models of the early seeds; only the
    arm ``args.train`` names unless it is ``'both'``), and notes (holdout
    split, warnings)."""
    user = parse_cfg_options(args.cfg_options)
    netaug = parse_cfg_options(args.netaug_options)
    notes = {'warnings': []}
    runs_by_config: Dict[str, tuple] = {}
    for pair in pairs_of(args):
        for role, config in zip(ROLES, pair):
            name = config_name(config)
            cfg = load_config(config, user,
                              netaug if role == 'netaug' else None)
            role_options = list(args.cfg_options)
            epochs = args.epochs or cfg.train_cfg.max_epochs
            # the schedule is stretched from the config's own: an override
            # of what this sets is refused below unless it is the same
            # value, and one of the length alone stretches it as --epochs
            options, warnings = schedule_options(
                load_config(config), epochs, args.val_interval,
                args.batch_size, args.times)
            notes['warnings'] += [f'{name}: {w}' for w in warnings]
            role_options += options
            val_file, split = val_ann_file(cfg), None
            if args.holdout is not None:
                options, split = holdout_options(cfg, args.holdout)
                role_options += options
                val_file = _resolve(root_of(cfg), _relative_to(
                    split['holdout_file'], root_of(cfg)))
                notes.setdefault('holdout', {})[name] = split
            planned = parse_cfg_options(role_options[len(args.cfg_options):])
            planned['randomness.seed'] = 'each of --seeds'
            check_overrides(user, planned, '--cfg-options')
            if role == 'netaug':
                check_overrides(netaug, planned, '--netaug-options')
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
            if args.train != 'both' and roles[name] != args.train:
                continue
            runs.append(Run(roles[name], config, seed,
                            osp.join(args.work_dir, name, f'seed{seed}'),
                            options + [_opt('randomness.seed', seed)],
                            epochs, val_file, split))
    return runs, notes
