"""Reading the runs' logs and the statistics of a comparison: final
metrics per seed, paired differences, plateau checks."""
import json
import math
import os
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.fileio import list_from_file
from scipy import stats

from ..utils.records import read_json as _read_json
from .constants import DEFAULT_KEYS, DONE_FILE, METRICS, ROLES, RUN_FILE
from .planning import config_name, validation_rule

# -- reading and summarizing -----------------------------------------------
def _read_epochs(run_dir: str, per_epoch) -> Dict[int, object]:
    """Values per epoch from the run's ``scalars.json`` files.

    mmengine writes ``<run_dir>/<timestamp>/vis_data/scalars.json``
    (``LocalVisBackend``, one JSON object per line), one folder per start;
    mmengine has no reader for it, and mmdet's ``analyze_logs.py`` (a
    script, not an importable function) reads one file, stops at a line
    cut by a kill and does not join a resumed run's folders.
    ``per_epoch(entries)`` turns the log lines of one folder into
    ``{epoch: value}``. The folders are read in time order and
    each replaces the epochs from its first one on, so a resumed run
    continues the interrupted one and a restarted run replaces it. A
    folder's first epoch is the first it trained or validated: a restarted
    run that has trained but not yet validated already replaces the
    abandoned start's validations from there on.
    """
    values: Dict[int, object] = {}
    if not osp.isdir(run_dir):
        return values
    for stamp in sorted(os.listdir(run_dir)):
        path = osp.join(run_dir, stamp, 'vis_data', 'scalars.json')
        if not osp.isfile(path):
            continue
        entries = []
        for line in list_from_file(path):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue  # a line cut by a kill
        found = per_epoch(entries)
        # training lines carry their epoch; validation lines (epoch-based
        # loops) their epoch as ``step``, which per_epoch has read
        trained = [int(e['epoch']) for e in entries
                   if isinstance(e.get('epoch'), (int, float))]
        if found or trained:
            first = min([*found, *trained])
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
    ``stdev(d) / sqrt(n)`` and the 95% confidence interval of the mean
    from Student's t with n - 1 degrees of freedom (both None with fewer
    than 2 pairs)."""
    per_seed = {}
    for seed, run in netaug_runs.items():
        other = plain_runs.get(seed)
        if other is None or run.get(metric) is None or \
                other.get(metric) is None:
            continue
        per_seed[str(seed)] = run[metric] - other[metric]
    values = list(per_seed.values())
    mean = statistics.fmean(values) if values else None
    se = (statistics.stdev(values) / math.sqrt(len(values))
          if len(values) > 1 else None)
    ci95 = None
    if se is not None:
        # Student's t with n - 1 degrees of freedom: with 2 seeds the
        # half-width is 12.7 standard errors, so a small s.e. from few
        # seeds is not read as a tight result
        half = float(stats.t.ppf(0.975, len(values) - 1)) * se
        ci95 = [mean - half, mean + half]
    return dict(per_seed=per_seed, n=len(values), mean=mean,
                standard_error=se, ci95=ci95)


def _last_fifth_points(curve: dict,
                       epochs: Optional[int]) -> Dict[str, list]:
    """Each metric's ``(epoch, value)`` validated at or after epoch
    ``0.8 * epochs``."""
    if not epochs or not curve.get('epoch'):
        return {}
    start = 0.8 * epochs
    return {metric: [(e, v) for e, v in zip(curve['epoch'],
                                            curve.get(metric, []))
                     if e >= start and v is not None] for metric in METRICS}


def _last_fifth(curve: dict, epochs: Optional[int]) -> Dict[str, list]:
    """Each metric's values validated at or after epoch ``0.8 * epochs``."""
    return {metric: [v for _, v in points] for metric, points in
            _last_fifth_points(curve, epochs).items()}


def last_fifth_change(curve: dict, epochs: Optional[int]) -> dict:
    """How much each metric moved over the last fifth of training: the
    largest minus the smallest value validated at or after epoch
    ``0.8 * epochs`` (a plateau: below 1 point of AP50)."""
    return {metric: max(values) - min(values)
            for metric, values in _last_fifth(curve, epochs).items()
            if len(values) > 1}


def last_fifth_mean(curve: dict, epochs: Optional[int]) -> dict:
    """Each metric's mean over the validations of the last fifth of
    training (epochs >= ``0.8 * epochs``). On a small validation set the
    metric jitters from one validation to the next by more than a
    NetAug-sized difference; this mean is a less noisy view of where a
    run ended than its final epoch alone."""
    return {metric: statistics.fmean(values)
            for metric, values in _last_fifth(curve, epochs).items()
            if values}


def last_fifth_trend(curve: dict, epochs: Optional[int]) -> dict:
    """How much each metric rose (or, negative, fell) over the last fifth
    of training by its least-squares line through the validations there:
    the slope times the fifth's length, ``0.2 * epochs``. The range of
    :func:`last_fifth_change` adds up the validation jitter of a small
    validation set; a fitted line averages it out, so it tells a curve
    still rising from a flat one that jitters. A cosine schedule ends with
    the learning rate near zero, so even an unconverged run flattens there:
    whether a longer schedule gains is the test of convergence, this only
    says how the curve ends."""
    found = {}
    for metric, points in _last_fifth_points(curve, epochs).items():
        if len({e for e, _ in points}) < 2:
            continue
        slope = statistics.linear_regression(*zip(*points)).slope
        found[metric] = slope * 0.2 * epochs
    return found


def recorded_sittings(recorded: dict) -> List[dict]:
    """The sittings a run's ``run.json`` records, oldest first: its
    ``sittings`` list, or for a record written before runs kept one, its
    single (latest) sitting."""
    if recorded.get('sittings'):
        return list(recorded['sittings'])
    if recorded.get('command') or recorded.get('invocation'):
        return [{k: recorded.get(k) for k in
                 ('command', 'invocation', 'device', 'threads')}]
    return []


def missing_validations(validated: Sequence[int], options: Sequence[str],
                        epochs: Optional[int]) -> List[int]:
    """The epochs up to the last validated one at which the training
    validates (:func:`validation_rule`: every ``train_cfg.val_interval``
    of the run's options, its ``dynamic_intervals`` and its final epoch)
    but logged no metrics: a sitting stopped between an epoch's checkpoint
    and its validation (mmengine saves first), whose next sitting resumed
    after it. Such a run's curve, matched epochs and last-fifth mean miss
    that point. Empty when the interval is not in the options."""
    validates = validation_rule(options, epochs)
    have = set(validated)
    if validates is None or not have:
        return []
    return [e for e in range(1, max(have) + 1)
            if e not in have and validates(e)]


def summarize_run(run_dir: str, keys: Dict[str, str],
                  expected_epochs: Optional[int] = None) -> dict:
    """Status, final metrics and curves of one run folder. A run whose
    schedule length is known neither from its ``run.json`` nor from
    ``expected_epochs`` has status 'unknown': whether it finished cannot
    be told, so it stays out of the statistics."""
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
                  missing_validations=missing_validations(
                      list(metrics), recorded.get('options'), epochs),
                  invocations=list(dict.fromkeys(
                      s['invocation'] for s in recorded_sittings(recorded)
                      if s.get('invocation'))),
                  curve=dict(epoch=list(metrics), **{
                      m: [metrics[e].get(k) for e in metrics]
                      for m, k in keys.items()}))
    failed = done.get('returncode') not in (None, 0) and \
        not done.get('interrupted') and not done.get('time_limit')
    if last is None and not osp.isdir(run_dir):
        status = 'missing'
    elif last is None or (epochs is not None and last != epochs):
        status = 'failed' if failed else 'incomplete'
    elif epochs is None:
        status = 'unknown'
    else:
        status = 'finished'
    result['status'] = status
    for m, k in keys.items():
        result[m] = metrics[last].get(k) if status == 'finished' else None
    result['train_loss'] = train_loss.get(last) \
        if status == 'finished' else None
    result['last_fifth_change'] = last_fifth_change(
        result['curve'], epochs) if status == 'finished' else None
    result['last_fifth_mean'] = last_fifth_mean(
        result['curve'], epochs) if status == 'finished' else None
    result['last_fifth_trend'] = last_fifth_trend(
        result['curve'], epochs) if status == 'finished' else None
    result['train_loss_curve'] = dict(epoch=list(train_loss),
                                      loss=list(train_loss.values()))
    return result


def matched_epochs(netaug_runs: dict, plain_runs: dict) -> dict:
    """For the seeds that one arm or both have not finished, where the
    two arms can still be compared: the last epoch both validated, each
    arm's metrics there and status (incomplete, failed), and NetAug −
    plain. Only for arms of the same, known schedule (``epochs``), where
    epoch k is the same point of it. Not in the statistics: a view of runs
    in progress."""
    found = {}
    for seed, run in netaug_runs.items():
        other = plain_runs.get(seed)
        if other is None or run['epochs'] is None or (
                run['status'] == other['status'] == 'finished'
                or run['epochs'] != other['epochs']):
            continue
        curves = [r['curve'] for r in (run, other)]
        common = set(curves[0]['epoch']) & set(curves[1]['epoch'])
        if not common:
            continue
        epoch = max(common)
        values = [{m: c[m][c['epoch'].index(epoch)] for m in c
                   if m != 'epoch'} for c in curves]
        found[seed] = dict(epoch=epoch, netaug=values[0], plain=values[1],
                           status=dict(netaug=run['status'],
                                       plain=other['status']),
                           difference={
                               m: values[0][m] - values[1][m]
                               for m in values[0]
                               if values[0][m] is not None
                               and values[1].get(m) is not None})
    return found


def summarize(pairs: Sequence[Tuple[str, str]], seeds: Sequence[int],
              work_dir: str, keys: Optional[Dict[str, str]] = None,
              expected_epochs: Optional[int] = None) -> dict:
    """Per pair and model: per-seed final metrics, mean and sample std over
    the finished seeds; per pair the NetAug - plain difference paired by
    seed (:func:`paired_difference`), the same over each run's
    :func:`last_fifth_mean` and, for seeds not finished by both,
    the two arms at the last epoch both validated (:func:`matched_epochs`).
    """
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
            # how the curves end: the mean fitted change over the last
            # fifth (each seed's own line; the seeds' spread gives its s.e.)
            model['last_fifth_trend'] = {
                m: mean_std([runs[s]['last_fifth_trend'][m] for s in finished
                             if m in runs[s]['last_fifth_trend']])
                for m in keys}
            entry[role] = model
        entry['difference'] = {
            m: paired_difference(entry['netaug']['runs'],
                                 entry['plain']['runs'], m)
            for m in (*keys, 'train_loss')}
        # the same pairing over each run's last-fifth mean (a secondary
        # view: less validation jitter than the final epoch)
        smoothed = {role: {seed: run['last_fifth_mean'] or {}
                           for seed, run in entry[role]['runs'].items()}
                    for role in ROLES}
        entry['difference_last_fifth'] = {
            m: paired_difference(smoothed['netaug'], smoothed['plain'], m)
            for m in keys}
        entry['matched_epoch'] = matched_epochs(entry['netaug']['runs'],
                                                entry['plain']['runs'])
        epochs = {r['last_epoch'] for role in ROLES
                  for r in entry[role]['runs'].values()
                  if r['status'] == 'finished'}
        entry['epochs'] = sorted(epochs)
        result['pairs'].append(entry)
    _check_keys(result, keys)
    return result


def _check_keys(result: dict, keys: Dict[str, str]) -> None:
    """A metric key that no validated run logged (a typo, or the keys of
    another evaluator) would make every figure 'n/a': say so, with the
    keys the runs did log."""
    validated = [run for entry in result['pairs'] for role in ROLES
                 for run in entry[role]['runs'].values()
                 if run['curve']['epoch']]
    if not validated:
        return
    for metric, key in keys.items():
        if all(v is None for run in validated for v in run['curve'][metric]):
            logged = sorted({k for run in validated for epoch in
                             read_val_metrics(run['run_dir']).values()
                             for k in epoch if '/' in k})
            option = {'mAP': '--map-key', 'AP50': '--ap50-key'}.get(
                metric, metric)
            raise ValueError(
                f'{option} {key}: no run logged this validation metric '
                f'({len(validated)} runs validated, e.g. '
                f'{validated[0]["run_dir"]}); they logged: '
                f'{", ".join(logged)}')
