"""The comparison's report: the markdown table, its header and the curves."""
import os
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

from .constants import METRICS, ROLE_TITLES, ROLES

def role_titles(entry: dict) -> dict:
    """The titles of a pair's two models: NetAug and plain, or for a pair
    of two other arms (e.g. NetAug + KD against KD) treated and baseline."""
    names = [entry[role]['name'] for role in ROLES]
    if names[0].startswith('netaug') and not names[0].startswith(
            'netaug_kd') and not names[1].startswith(('netaug', 'kd')):
        return dict(ROLE_TITLES)
    return {'netaug': 'treated', 'plain': 'baseline'}


# -- report ----------------------------------------------------------------
def _num(value: Optional[float], signed: bool = False,
         digits: int = 3) -> str:
    if value is None:
        return 'n/a'
    value = round(value, digits) + 0.0  # no "-0.0"
    # a difference of zero has no sign: "0.0", not "+0.0"
    sign = '+' if signed and value else ''
    return f'{value:{sign}.{digits}f}'


def _pct(value: Optional[float], signed: bool = False) -> str:
    return _num(None if value is None else 100 * value, signed, digits=1)


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return 'n/a'
    seconds = int(round(seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def _paired_mean(diff: dict) -> str:
    """A paired difference's mean in bold, with its standard error and 95%
    interval where there are at least two pairs."""
    se, ci = diff['standard_error'], diff.get('ci95')
    return f'**{_pct(diff["mean"], signed=True)}**' + (
        f' (s.e. {_pct(se)}; 95% CI {_pct(ci[0], signed=True)} to '
        f'{_pct(ci[1], signed=True)})' if se is not None else '')


def _per_seed(diff: dict) -> str:
    """A paired difference's per-seed values, signed: "+1.0 / -2.0"."""
    return ' / '.join(_pct(d, signed=True) for d in diff['per_seed'].values())


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
            cells += [_per_seed(diff) or 'n/a', _paired_mean(diff)]
        diff = entry['difference']['train_loss']
        se = diff['standard_error']
        cells.append(f'{_num(diff["mean"], signed=True)}' + (
            f' (s.e. {_num(se)})' if se is not None else ''))
        lines.append('| ' + ' | '.join(cells) + ' |')
    smoothed = []
    for index, entry in enumerate(summary['pairs'], 1):
        diffs = entry.get('difference_last_fifth') or {}
        if not any(d['n'] for d in diffs.values()):
            continue
        titles = role_titles(entry)
        parts = [f'{m} {_per_seed(diffs[m])}, mean {_paired_mean(diffs[m])}'
                 for m in METRICS]
        smoothed.append(f'- pair {index}, {titles["netaug"]} − '
                        f'{titles["plain"]}, seeds '
                        f'{", ".join(diffs[METRICS[0]]["per_seed"])}: '
                        + '; '.join(parts))
    if smoothed:
        lines += ['', 'The same pairs over each run\'s mean of its '
                  'validations in the last fifth of training (epochs >= '
                  '0.8 x its schedule; less of the validation set\'s jitter '
                  'between validations than one epoch; a second view, the '
                  'table\'s final epoch is the statistic):', *smoothed]
    notes = []
    for entry in summary['pairs']:
        for role in ROLES:
            name = entry[role]['name']
            for seed, run in entry[role]['runs'].items():
                found = []
                if run['status'] == 'missing':
                    found.append(f'- {name} seed {seed}: not trained')
                elif run['status'] == 'unknown':
                    found.append(
                        f'- {name} seed {seed}: its schedule length is not '
                        'recorded (no "epochs" in its run.json), so whether '
                        'it finished is not known (last validated epoch '
                        f'{run["last_epoch"]}): give --epochs')
                elif run['status'] != 'finished':
                    found.append(f'- {name} seed {seed}: {run["status"]} '
                                 f'(last validated epoch {run["last_epoch"]}'
                                 f' of {run["epochs"]})')
                if run.get('missing_validations'):
                    found.append(
                        f'- {name} seed {seed}: no validation logged at '
                        'epoch(s) ' + ', '.join(
                            map(str, run['missing_validations']))
                        + ' (a sitting stopped between the checkpoint and '
                        'its validation; its curve and last-fifth mean '
                        'lack them)')
                # once, if in several pairs
                notes += [note for note in found if note not in notes]
        if len(entry['epochs']) > 1:
            notes.append(f'- pair {entry["netaug"]["name"]}: runs ended at '
                         f'different epochs {entry["epochs"]}')
    if notes:
        lines += ['', 'Not in the statistics / inconsistent:', *notes]
    matched = []
    for entry in summary['pairs']:
        titles = role_titles(entry)
        for seed, item in (entry.get('matched_epoch') or {}).items():
            arms = [f'{titles[role]} ' + ' / '.join(
                _pct(item[role].get(m)) for m in METRICS) for role in ROLES]
            diff = ' / '.join(_pct(item['difference'].get(m), signed=True)
                              for m in METRICS)
            status = ', '.join(f'{titles[role]} {item["status"][role]}'
                               for role in ROLES)
            matched.append(f'- {entry["netaug"]["name"]} seed {seed}, '
                           f'epoch {item["epoch"]} ({status}): {arms[0]}, '
                           f'{arms[1]}; {titles["netaug"]} − '
                           f'{titles["plain"]} {diff}')
    if matched:
        lines += ['', 'Seeds that one or both arms have not finished, '
                  'compared at the last epoch both validated (mAP / AP50; '
                  'both arms share the schedule; not in the statistics):',
                  *matched]
    plateau = []
    for entry in summary['pairs']:
        for role in ROLES:
            for seed, run in entry[role]['runs'].items():
                change = (run.get('last_fifth_change') or {}).get('AP50')
                if change is None:
                    continue
                item = f'{entry[role]["name"]} seed {seed}: {_pct(change)}'
                if item not in plateau:  # once, if in several pairs
                    plateau.append(item)
    if plateau:
        lines += ['', 'AP50 range over the last fifth of training (largest '
                  '− smallest validated value; a plateau is below 1.0): '
                  + '; '.join(plateau)]
    trends = []
    for entry in summary['pairs']:
        for role in ROLES:
            model = entry[role]
            trend = (model.get('last_fifth_trend') or {}).get('AP50')
            if not trend or not trend['n']:
                continue
            se = (f', s.e. {_pct(trend["std"] / trend["n"] ** 0.5)}'
                  if trend['std'] is not None else '')
            item = (f'{model["name"]} {_pct(trend["mean"], signed=True)} '
                    f'({trend["n"]} seed{"s" * (trend["n"] != 1)}{se}; '
                    'per seed ' + ' / '.join(
                        _pct(v, signed=True) for v in trend['values'])
                    + ')')
            if item not in trends:
                trends.append(item)
    if trends:
        lines += ['', 'AP50 fitted change over the last fifth of training '
                  '(each run\'s least-squares line through its validations '
                  'there, times the fifth\'s length; mean over the finished '
                  'seeds; the jitter of single validations averages out; a '
                  'cosine schedule flattens every curve at its end, so only '
                  'a longer schedule tells whether a run has converged): '
                  + '; '.join(trends)]
    return '\n'.join(lines)


def report_header(summary: dict, command: str, device: str,
                  wall_time: float,
                  settings_differ: Sequence[str] = ()) -> List[str]:
    """Reproduction and context lines of the report, from the runs'
    records (``run.json``) and this invocation. ``settings_differ``: where
    the runs' own settings are not this command's (``--summarize-only``
    of runs trained with other options), one line each."""
    runs = [r for entry in summary['pairs'] for role in ROLES
            for r in entry[role]['runs'].values()]
    devices = sorted({r['device'] for r in runs if r['device']})
    # every sitting of every run (a resumed run was trained by several)
    invocations = sorted({inv for r in runs for inv in r['invocations']})
    val_files = sorted({r['val_file'] for r in runs if r['val_file']})
    splits = {r['holdout']['holdout_file']: r['holdout'] for r in runs
              if r.get('holdout')}
    # a run in several pairs (one baseline against two arms) counts once
    train_time = sum({r['run_dir']: r['train_time_s'] or 0
                      for r in runs}.values())
    keys = summary['keys']
    lines = ['## NetAug vs plain: final-epoch accuracy', '',
             f'- command: `{command}`']
    lines += [f'- runs trained by: `{inv}`' for inv in invocations
              if inv != command]
    lines += [f'- not this command\'s settings: {line}'
              for line in settings_differ]
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
        'stdev of the differences / sqrt(n); 95% CI: mean ± t(0.975, n − 1) '
        'x s.e., Student\'s t, wide with few seeds)',
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


def plotted_seeds(entry: dict) -> Dict[str, List[str]]:
    """The seeds whose curves a pair's plot shows, per role: those both arms
    finished (the paired statistics' seeds), else each arm's finished ones,
    else (nothing finished yet) every run with a curve. A run still in
    progress would bend the mean where it stops."""
    finished = {role: [str(s) for s in entry[role]['finished_seeds']]
                for role in ROLES}
    paired = [s for s in finished['netaug'] if s in finished['plain']]
    return {role: paired or finished[role] or list(entry[role]['runs'])
            for role in ROLES}


def plot_curves(summary: dict, path: str) -> None:
    """Validation mAP and AP50 per epoch (mean over the seeds, min-max
    band) and the tiny model's training loss per epoch, NetAug vs plain;
    one row per pair, over the seeds of :func:`plotted_seeds`."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    pairs = summary['pairs']
    fig, axes = plt.subplots(len(pairs), 3, figsize=(16, 3.8 * len(pairs)),
                             squeeze=False)
    colors = {'netaug': 'tab:red', 'plain': 'tab:blue'}
    for row, entry in enumerate(pairs):
        seeds_of = plotted_seeds(entry)
        for col, m in enumerate(METRICS):
            ax = axes[row][col]
            for role in ROLES:
                model = entry[role]
                per_epoch: Dict[int, List[float]] = {}
                for seed in seeds_of[role]:
                    curve = model['runs'][seed]['curve']
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
            # the configs are named in the legend
            ax.set_title(f'validation {m}, mean over seeds (min-max band)',
                         fontsize=9)
            ax.grid(alpha=0.3)
            if ax.has_data():
                ax.legend(fontsize=8)
        ax = axes[row][2]
        for role in ROLES:
            per_epoch = {}
            for seed in seeds_of[role]:
                curve = entry[role]['runs'][seed].get('train_loss_curve') \
                    or {}
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
