"""The paired accuracy tables in README.md and docs/benchmarks.md say what
the committed results JSONs beside them say: every seed's mAP, AP50 and
training loss for both arms with each arm's mean (and standard deviation),
every paired difference, and the mean difference with its standard error
and 95% interval; the tables of the two arms at matched epochs say what
the committed run records say. The figures are typed by hand from the
comparison tool's report and the records; this test catches a table left
behind when a seed is added, or a number copied wrong."""
import json
import re

import pytest

from conftest import REPO

EVIDENCE = 'docs/evidence/'


def arms(results, netaug, plain, difference, pair=0):
    """Row labels of one pair's table: {label: (results, pair, role)}."""
    return {netaug: (results, pair, 'netaug'), plain: (results, pair, 'plain'),
            difference: (results, pair, 'difference')}


SSDLITE = EVIDENCE + 'ssdlite_cards224_cpu.json'
YOLOV3 = EVIDENCE + 'yolov3_cards224_cpu.json'
WALLTIME = EVIDENCE + 'walltime_cards224_cpu.json'  # 72 epochs, equal cost
YOLOV3_72E = EVIDENCE + 'yolov3_72e_cards224_cpu.json'
WIDE = EVIDENCE + 'wide_cards224_cpu.json'  # SSDLite width 1.0
KD = EVIDENCE + 'kd_cards224_cpu.json'  # NetAug + KD / KD, NetAug + KD /
#                           NetAug, KD / plain, NetAug / plain (pairs 0-3)
README_ROWS = ('NetAug (tiny model)', 'plain baseline',
               'NetAug − plain, paired')

# the table of every paired result, in README and benchmarks.md
GLANCE = {
    'SSDLite x0.35, NetAug − plain, 30 epochs': (SSDLITE, 0, 'difference'),
    'YOLOv3 x0.35, NetAug − plain, 30 epochs': (YOLOV3, 0, 'difference'),
    'SSDLite x0.35, NetAug − plain, 72 epochs': (WALLTIME, 0, 'difference'),
    'YOLOv3 x0.35, NetAug − plain, 72 epochs': (YOLOV3_72E, 0, 'difference'),
    'SSDLite x0.35, NetAug at 30 epochs − plain at 72 (equal wall time)':
        (WALLTIME, 1, 'difference'),
    'SSDLite x0.35, NetAug + KD − KD, 30 epochs': (KD, 0, 'difference'),
    'SSDLite x0.35, NetAug + KD − NetAug, 30 epochs': (KD, 1, 'difference'),
    'SSDLite width 1.0 (wide control), NetAug − plain, 30 epochs':
        (WIDE, 0, 'difference')}
KD_DIFFERENCES = {
    'NetAug + KD − KD': (KD, 0, 'difference'),
    'NetAug + KD − NetAug': (KD, 1, 'difference'),
    'KD − plain': (KD, 2, 'difference'),
    'NetAug − plain': (KD, 3, 'difference')}
# (markdown file, a line the table is next to (before or after it) or in,
#  {row label: (results JSON, pair index, 'netaug'|'plain'|'difference')}
#  [, the seeds the table is about where they are fewer than the JSON's])
TABLES = [
    ('README.md', '`tests/test_tools/test_docs_figures.py`):', GLANCE),
    ('docs/benchmarks.md', 'the results JSONs by `tests/test_tools/test_docs',
     GLANCE),
    ('README.md', '](docs/evidence/ssdlite_cards224_cpu.png)',
     arms(SSDLITE, *README_ROWS)),
    ('README.md', '](docs/evidence/yolov3_cards224_cpu.png)',
     arms(YOLOV3, *README_ROWS)),
    ('docs/benchmarks.md', '](evidence/ssdlite_cards224_cpu.png)',
     arms(SSDLITE, 'NetAug', 'plain', '**NetAug − plain**, paired')),
    ('docs/benchmarks.md', '](evidence/walltime_cards224_cpu.png)',
     arms(WALLTIME, 'NetAug (tiny model)', 'plain',
          'NetAug − plain, paired')),
    ('docs/benchmarks.md', '| paired difference, seeds 0-4 |',
     KD_DIFFERENCES),
    # the four KD arms over seeds 0-3, before seed 4 was trained
    ('docs/benchmarks.md', '| arm | mAP, seeds 0 / 1 / 2 / 3 |', {
        'plain': (KD, 3, 'plain'), 'KD': (KD, 2, 'netaug'),
        'NetAug': (KD, 3, 'netaug'), 'NetAug + KD': (KD, 0, 'netaug')},
     [0, 1, 2, 3]),
    ('docs/benchmarks.md', '| paired difference, seeds 0-3 |',
     KD_DIFFERENCES, [0, 1, 2, 3]),
    ('docs/benchmarks.md', '](evidence/wide_cards224_cpu.png)',
     arms(WIDE, 'NetAug', 'plain', 'NetAug − plain')),
    ('docs/benchmarks.md', '--work-dir work_dirs/quickstart_spread',
     arms(EVIDENCE + 'quickstart_cpu.json', 'NetAug (tiny model)', 'plain',
          'NetAug − plain')),
]
TABLES = [table if len(table) == 4 else (*table, None) for table in TABLES]

NUMBER = r'[+−-]?\d+\.\d+'
SEED_LIST = re.compile(rf'^{NUMBER}(?: / {NUMBER})+')
# a mean, bold or not, alone ("40.1"), with an arm's standard deviation
# ("40.3 ± 1.2") or with a paired difference's standard error and 95%
# interval ("**+0.0** (s.e. 1.1; 95% CI −3.0 to +3.0)", "+2.6 (1.3; −0.9
# to +6.2)"; "s.e." and the interval are optional); or "(mean +0.032, s.e.
# 0.022)". After per-seed values, ", " or " " and "mean " may come first.
STATED = [
    re.compile(rf'(?:\*\*)?(?P<mean>{NUMBER})(?:\*\*)?(?: ± (?P<std>{NUMBER})'
               rf'| \((?:s\.e\. )?(?P<se>{NUMBER})'
               rf'(?:; (?:95% CI )?(?P<low>{NUMBER}) to (?P<high>{NUMBER}))?'
               r'\))?'),
    re.compile(rf'\(mean (?P<mean>{NUMBER}), s\.e\. (?P<se>{NUMBER})\)')]
# the statistic a cell can state of a row: an arm's std, a difference's s.e.
STATED_BY = {'netaug': {'mean', 'std'}, 'plain': {'mean', 'std'},
             'difference': {'mean', 'se', 'low', 'high'}}
# x100 for accuracy, printed as is for the training loss
SCALE = {'mAP': 100, 'AP50': 100, 'train_loss': 1}


def number(text):
    return float(text.replace('−', '-'))


def stated(text):
    """{'mean': ..., 'std' | 'se' [, 'low', 'high']: ...} (the texts) that
    ``text`` states, None if it is in none of the forms of STATED."""
    text = re.sub(r'^,? (?:mean )?', '', text)
    for form in STATED:
        found = form.fullmatch(text)
        if found:
            return {k: v for k, v in found.groupdict().items() if v}
    return None


def table_near(lines, anchor, after=False):
    """The rows (lists of cells) of the markdown table that starts or ends
    within three lines of the line containing ``anchor``; the anchor line
    may be a row of the table itself. ``after``: the table that starts
    there or within three lines after it (an anchor that introduces it,
    "Seed 1:", between two tables)."""
    hits = [i for i, line in enumerate(lines) if anchor in line]
    assert len(hits) == 1, f'{anchor!r} found {len(hits)} times'
    i = hits[0]
    def is_row(j):  # rows may be indented (a table inside a list item)
        return 0 <= j < len(lines) and lines[j].lstrip().startswith('|')

    near = [j for j in range(i if after else i - 3, i + 4)
            if is_row(j) and not (after and is_row(j - 1))]
    assert near, f'no table within three lines of {anchor!r}'
    start = end = min(near, key=lambda j: abs(j - i))
    while is_row(start - 1):
        start -= 1
    while is_row(end + 1):
        end += 1
    return [[cell.strip() for cell in line.strip().strip('|').split('|')]
            for line in lines[start:end + 1]]


def seed_list(text):
    """The seeds a cell names: "seeds 0 / 1 / 2", "(0 / 1)", "seeds 0-4",
    "0-4"; None if it names none."""
    listed = re.search(r'(\d+(?: / \d+)+)', text)
    if listed:
        return [int(s) for s in listed.group(1).split(' / ')]
    spanned = re.search(r'(?:^|seeds )(\d+)-(\d+)', text)
    if spanned:
        return list(range(int(spanned.group(1)), int(spanned.group(2)) + 1))
    return None


def metric_columns(header):
    """{column index: ('mAP' | 'AP50' | 'train_loss', seeds, statistic)}
    from the header row. A column names its seeds ("mAP, seeds 0 / 1",
    "seeds 0-4"), takes the last ones named ("AP50 per seed", "AP50 mean
    ± std"), or, where none is named, each row names them in its 'seeds'
    column (seeds None here). A column that names a loss holds the tiny
    model's training loss at the last epoch. The statistic is the final
    epoch's (``difference``), or for a column that says "last fifth" each
    run's mean over its last fifth's validations
    (``difference_last_fifth``). Each cell holds per-seed values, a mean
    (with an arm's std or a difference's s.e.) or both."""
    columns, seeds = {}, None
    for k, cell in enumerate(header):
        seeds = seed_list(cell) or seeds
        metric = 'AP50' if 'AP50' in cell else 'mAP' if 'mAP' in cell \
            else 'train_loss' if 'loss' in cell else None
        if metric:
            columns[k] = (metric, seeds, 'difference_last_fifth'
                          if 'last fifth' in cell else 'difference')
    return columns


def check_close(text, value, scale, where):
    """``text`` is ``scale * value`` rounded to the digits it prints."""
    digits = len(text.split('.')[1])
    assert abs(number(text) - scale * value) <= 0.5 * 10 ** -digits + 1e-6,\
        f'{where}: the table says {text}, the results say ' \
        f'{scale * value:.{digits + 2}f}'


def summary_of(record, role, metric, statistic, seeds, subset, where):
    """The results' mean and std of one arm's ``metric`` over ``seeds``,
    or the mean, s.e. and 95% interval of the pair's difference: the
    results JSON's own, which must be over the seeds the table names; for
    a table about fewer seeds than the JSON (``subset``), computed from the
    JSON's per-seed values by the comparison's own functions."""
    from mmdet_netaug.comparison import mean_std, paired_difference
    names = [str(seed) for seed in seeds]
    if subset is None:
        if role == 'difference':
            summary = record[statistic][metric]
            there = sorted(summary['per_seed'], key=int)
        else:
            summary = record[role][metric]
            there = [str(seed) for seed in record[role]['finished_seeds']]
        assert there == names, \
            f'{where}: seeds {seeds} listed, the JSON has {there}'
        return summary
    assert seeds == subset, f'{where}: seeds {seeds} listed, not {subset}'
    assert statistic == 'difference', \
        f'{where}: the last fifth over some of the seeds is not computed'
    runs = {}
    for side in ('netaug', 'plain') if role == 'difference' else (role,):
        runs[side] = {seed: record[side]['runs'][seed] for seed in names}
        for seed, run in runs[side].items():
            assert run['status'] == 'finished', \
                f'{where}: {side} seed {seed} is {run["status"]}'
    if role == 'difference':
        return paired_difference(runs['netaug'], runs['plain'], metric)
    return mean_std([run[metric] for run in runs[role].values()])


@pytest.mark.parametrize('doc, anchor, rows, subset', TABLES,
                         ids=[f'{t[0]}:{t[1]}' for t in TABLES])
def test_paired_table_matches_results(doc, anchor, rows, subset):
    lines = (REPO / doc).read_text(encoding='utf-8').splitlines()
    table = table_near(lines, anchor)
    columns = metric_columns(table[0])
    assert {'mAP', 'AP50'} <= set(m for m, _, statistic in columns.values()
                                  if statistic == 'difference'), \
        f'{doc}: no mAP and AP50 columns in {table[0]}'
    seeds_column = table[0].index('seeds') if 'seeds' in table[0] else None
    found = set()
    for row in table[2:]:
        if row[0] not in rows:
            continue
        found.add(row[0])
        results, pair, role = rows[row[0]]
        record = json.loads((REPO / results).read_text())['pairs'][pair]
        for k, (metric, seeds, statistic) in columns.items():
            where = f'{doc}, row {row[0]!r}, {metric}' + (
                ', last fifth' if statistic != 'difference' else '')
            assert role == 'difference' or statistic == 'difference', \
                f'{where}: a last-fifth column holds paired differences only'
            if seeds is None:
                assert seeds_column is not None, \
                    f'{where}: neither the header nor a seeds column names ' \
                    'the seeds'
                seeds = seed_list(row[seeds_column])
                assert seeds, f'{where}: no seeds in {row[seeds_column]!r}'
            scale = SCALE[metric]
            cell = row[k]
            listed = SEED_LIST.match(cell)
            if listed:
                values = listed.group(0).split(' / ')
                assert len(values) == len(seeds), where
                for seed, doc_value in zip(seeds, values):
                    if role == 'difference':
                        value = record[statistic][metric]['per_seed'][
                            str(seed)]
                    else:
                        run = record[role]['runs'][str(seed)]
                        assert run['status'] == 'finished', \
                            f'{where}: seed {seed} is {run["status"]}'
                        value = run[metric]
                    check_close(doc_value, value, scale,
                                f'{where}, seed {seed}')
            rest = cell[listed.end():] if listed else cell
            if not rest and listed:
                if role == 'difference':  # the seeds the row pairs
                    summary_of(record, role, metric, statistic, seeds,
                               subset, where)
                continue  # per-seed values only
            statement = stated(rest)
            assert statement and set(statement) <= STATED_BY[role], \
                f'{where}: {cell!r} is not per-seed values or a mean in ' \
                'the form "+1.2 (s.e. 0.3; 95% CI ...)" (a difference) or ' \
                '"1.2 ± 0.3" (an arm)'
            summary = summary_of(record, role, metric, statistic, seeds,
                                 subset, where)
            check_close(statement['mean'], summary['mean'], scale,
                        f'{where}, mean')
            if 'std' in statement:
                check_close(statement['std'], summary['std'], scale,
                            f'{where}, std')
            if 'se' in statement:
                check_close(statement['se'], summary['standard_error'],
                            scale, f'{where}, s.e.')
            if 'low' in statement:
                for name, value in zip(('low', 'high'), summary['ci95']):
                    check_close(statement[name], value, scale,
                                f'{where}, 95% CI')
    assert found == set(rows), f'{doc}: rows {set(rows) - found} missing'


# the two arms at matched epochs (the same schedule): (anchor as in
# TABLES, results JSON and pair whose runs they are, seed); their values
# are read from the run records the JSON names
MATCHED = [('test split). Seed 0:', WALLTIME, 0, 0),
           ('Seed 1:', WALLTIME, 0, 1)] + [
    (f'| seed {seed}, epoch |', WALLTIME, 0, seed) for seed in (2, 3, 4, 5)]


@pytest.mark.parametrize('anchor, results, pair, seed', MATCHED,
                         ids=[f'{m[1]}:seed{m[3]}' for m in MATCHED])
def test_matched_epoch_table_matches_records(anchor, results, pair, seed):
    """Rows "NetAug mAP / AP50" and "plain mAP / AP50" (x100, as the
    records' validation at that epoch), "AP50 difference" (NetAug −
    plain) and "tiny model's train loss, NetAug / plain" (that epoch's
    mean, :func:`read_train_loss`) at each epoch the header names."""
    from mmdet_netaug.comparison import read_train_loss, read_val_metrics
    doc = 'docs/benchmarks.md'
    lines = (REPO / doc).read_text(encoding='utf-8').splitlines()
    table = table_near(lines, anchor, after=True)
    named = re.fullmatch(r'(?:seed (\d+), )?epoch', table[0][0])
    assert named, f'{doc}: {table[0][0]!r} is not "[seed k, ]epoch"'
    assert named.group(1) in (None, str(seed)), \
        f'{doc}: the table of seed {seed} says {table[0][0]!r}'
    epochs = [int(cell) for cell in table[0][1:]]
    summary = json.loads((REPO / results).read_text())
    keys, record = summary['keys'], summary['pairs'][pair]
    val, loss = {}, {}
    for role in ('netaug', 'plain'):
        run_dir = REPO / record[role]['runs'][str(seed)]['run_dir']
        assert run_dir.is_dir(), f'{run_dir}: records not committed'
        val[role] = read_val_metrics(str(run_dir))
        loss[role] = read_train_loss(str(run_dir))

    def accuracy(role, metric, epoch):
        assert epoch in val[role], f'{role} seed {seed}: no validation ' \
            f'at epoch {epoch}'
        return val[role][epoch][keys[metric]]

    def trained(role, epoch):
        assert epoch in loss[role], f'{role} seed {seed}: no training ' \
            f'loss at epoch {epoch}'
        return loss[role][epoch]

    rows = {  # label: (per epoch: [(value, scale)])
        'NetAug mAP / AP50': lambda e: [
            (accuracy('netaug', m, e), 100) for m in ('mAP', 'AP50')],
        'plain mAP / AP50': lambda e: [
            (accuracy('plain', m, e), 100) for m in ('mAP', 'AP50')],
        'AP50 difference': lambda e: [
            (accuracy('netaug', 'AP50', e) - accuracy('plain', 'AP50', e),
             100)],
        "tiny model's train loss, NetAug / plain": lambda e: [
            (trained(role, e), 1) for role in ('netaug', 'plain')]}
    found = set()
    for row in table[2:]:
        assert row[0] in rows, f'{doc}, seed {seed}: row {row[0]!r} unknown'
        found.add(row[0])
        assert len(row) == len(epochs) + 1, f'{doc}, seed {seed}, {row[0]}'
        for epoch, cell in zip(epochs, row[1:]):
            where = f'{doc}, seed {seed}, row {row[0]!r}, epoch {epoch}'
            expected = rows[row[0]](epoch)
            values = cell.split(' / ')
            assert len(values) == len(expected) and all(
                re.fullmatch(NUMBER, v) for v in values), \
                f'{where}: {cell!r}'
            for text, (value, scale) in zip(values, expected):
                check_close(text, value, scale, where)
    assert {'NetAug mAP / AP50', 'plain mAP / AP50'} <= found, \
        f'{doc}, seed {seed}: rows missing'


@pytest.mark.parametrize('path', sorted(
    p.name for p in (REPO / 'docs' / 'evidence').glob('*.json')))
def test_results_json_is_what_its_runs_say(path):
    """Every committed results JSON is what the comparison reads from the
    committed run records beside it today: each run's status and final
    metrics, and each paired difference (final epoch and last fifth). A
    JSON left behind when a record changed, or records the reader now
    reads otherwise, fail here (the tables above are checked against the
    JSONs)."""
    import os
    import os.path as osp

    from mmdet_netaug.comparison import summarize
    with open(REPO / 'docs' / 'evidence' / path) as f:
        results = json.load(f)
    if not osp.isdir(REPO / results['work_dir']):
        pytest.skip(f'{results["work_dir"]}: records not committed')
    pairs = [(p['netaug']['config'], p['plain']['config'])
             for p in results['pairs']]
    cwd = os.getcwd()
    os.chdir(REPO)  # work_dir is relative to the repository
    try:
        again = summarize(pairs, results['seeds'], results['work_dir'],
                          results['keys'],
                          results.get('settings', {}).get('epochs'))
    finally:
        os.chdir(cwd)
    for old, new in zip(results['pairs'], again['pairs'], strict=True):
        for role in ('netaug', 'plain'):
            for seed, run in old[role]['runs'].items():
                fresh = new[role]['runs'][seed]
                where = f'{path}: {old[role]["name"]} seed {seed}'
                assert fresh['status'] == run['status'], where
                for metric in ('mAP', 'AP50', 'train_loss', 'last_epoch'):
                    assert fresh[metric] == pytest.approx(run[metric]), \
                        f'{where} {metric}'
        for view in ('difference', 'difference_last_fifth'):
            for metric, diff in old.get(view, {}).items():
                fresh = new[view][metric]
                where = f'{path}: {old["netaug"]["name"]} {view} {metric}'
                assert fresh['per_seed'] == pytest.approx(
                    diff['per_seed']), where
                for key in ('mean', 'standard_error'):
                    assert fresh[key] == pytest.approx(diff[key]), where
