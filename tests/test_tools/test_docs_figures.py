"""The paired accuracy tables in README.md and docs/benchmarks.md say what
the committed results JSONs beside them say: every seed's mAP and AP50 for
both arms, every paired difference, and the mean difference with its
standard error and 95% interval. The figures are typed by hand from the
comparison tool's report; this test catches a table left behind when a
seed is added, or a number copied wrong."""
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
# (markdown file, a line the table is next to (before or after it) or in,
#  {row label: (results JSON, pair index, 'netaug'|'plain'|'difference')})
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
    ('docs/benchmarks.md', '| paired difference, seeds 0-4 |', {
        'NetAug + KD − KD': (KD, 0, 'difference'),
        'NetAug + KD − NetAug': (KD, 1, 'difference'),
        'KD − plain': (KD, 2, 'difference'),
        'NetAug − plain': (KD, 3, 'difference')}),
    ('docs/benchmarks.md', '--work-dir work_dirs/quickstart_spread',
     arms(EVIDENCE + 'quickstart_cpu.json', 'NetAug (tiny model)', 'plain',
          'NetAug − plain')),
]

NUMBER = r'[+−-]?\d+\.\d'
SEED_LIST = re.compile(rf'^{NUMBER}(?: / {NUMBER})+')
# "**+0.0** (s.e. 1.1; 95% CI −3.0 to +3.0)" or "+2.6 (1.3; −0.9 to +6.2)":
# the bold, "s.e." and the interval are optional
MEAN = re.compile(rf'(?:\*\*)?({NUMBER})(?:\*\*)? \((?:s\.e\. )?(\d+\.\d)'
                  rf'(?:; (?:95% CI )?({NUMBER}) to ({NUMBER}))?\)')


def number(text):
    return float(text.replace('−', '-'))


def table_near(lines, anchor):
    """The rows (lists of cells) of the markdown table that starts or ends
    within three lines of the line containing ``anchor``; the anchor line
    may be a row of the table itself."""
    hits = [i for i, line in enumerate(lines) if anchor in line]
    assert len(hits) == 1, f'{anchor!r} found {len(hits)} times'
    i = hits[0]
    def is_row(j):  # rows may be indented (a table inside a list item)
        return 0 <= j < len(lines) and lines[j].lstrip().startswith('|')

    near = [j for j in range(i - 3, i + 4) if is_row(j)]
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
    """{column index: ('mAP' | 'AP50', seeds, statistic)} from the header
    row. A column names its seeds ("mAP, seeds 0 / 1", "seeds 0-4"), takes
    the last ones named ("AP50 per seed"), or, where none is named, each
    row names them in its 'seeds' column (seeds None here). The statistic
    is the final epoch's (``difference``), or for a column that says "last
    fifth" each run's mean over its last fifth's validations
    (``difference_last_fifth``)."""
    columns, seeds = {}, None
    for k, cell in enumerate(header):
        seeds = seed_list(cell) or seeds
        last_fifth = 'last fifth' in cell
        if 'mean' in cell and not last_fifth:
            continue
        metric = 'AP50' if 'AP50' in cell else 'mAP' if 'mAP' in cell \
            else None
        if metric:
            columns[k] = (metric, seeds, 'difference_last_fifth'
                          if last_fifth else 'difference')
    return columns


def check_close(doc, value, where):
    assert abs(doc - 100 * value) <= 0.05 + 1e-6, \
        f'{where}: the table says {doc}, the results JSON {100 * value:.2f}'


@pytest.mark.parametrize('doc, anchor, rows', TABLES,
                         ids=[f'{t[0]}:{t[1]}' for t in TABLES])
def test_paired_table_matches_results(doc, anchor, rows):
    lines = (REPO / doc).read_text(encoding='utf-8').splitlines()
    table = table_near(lines, anchor)
    columns = metric_columns(table[0])
    assert set(m for m, _, statistic in columns.values()
               if statistic == 'difference') == {'mAP', 'AP50'}, \
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
            cell = row[k]
            listed = SEED_LIST.match(cell)
            if listed:
                values = [number(v) for v in listed.group(0).split(' / ')]
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
                    check_close(doc_value, value, f'{where}, seed {seed}')
            else:
                assert role == 'difference' and seeds_column is not None, \
                    f'{where}: no per-seed values in {cell!r}'
            if role != 'difference':
                continue
            summary = record[statistic][metric]
            assert sorted(summary['per_seed'], key=int) == \
                [str(seed) for seed in seeds], \
                f'{where}: seeds {seeds} listed, the JSON pairs ' \
                f'{sorted(summary["per_seed"], key=int)}'
            # the mean sits after the per-seed values or in the next column
            stated = MEAN.search(cell[listed.end():] if listed else cell) \
                or (listed and k + 1 < len(row) and MEAN.search(row[k + 1]))
            if not stated:
                # a table of per-seed differences only; a mean that is there
                # but not in the expected form fails here
                mean_column = k + 1 < len(row) and 'mean' in table[0][k + 1]
                assert listed and not mean_column and \
                    cell == listed.group(0), \
                    f'{where}: the mean in {cell!r} is not in the form ' \
                    '"+1.2 (s.e. 0.3; 95% CI ...)"'
                continue
            check_close(number(stated.group(1)), summary['mean'],
                        f'{where}, mean')
            check_close(number(stated.group(2)),
                        summary['standard_error'], f'{where}, s.e.')
            if stated.group(3):
                for doc_value, value in zip(stated.group(3, 4),
                                            summary['ci95']):
                    check_close(number(doc_value), value,
                                f'{where}, 95% CI')
    assert found == set(rows), f'{doc}: rows {set(rows) - found} missing'


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
