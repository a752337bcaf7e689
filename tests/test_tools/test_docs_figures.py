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

# (markdown file, a line the table is next to (before or after it),
#  results JSON, {row label: (pair index, 'netaug' | 'plain' | 'difference')})
PAIRED = {'NetAug (tiny model)': (0, 'netaug'), 'plain baseline': (0, 'plain'),
          'NetAug − plain, paired': (0, 'difference')}
TABLES = [
    ('README.md', '](docs/evidence/ssdlite_cards224_cpu.png)',
     'docs/evidence/ssdlite_cards224_cpu.json', PAIRED),
    ('README.md', '](docs/evidence/yolov3_cards224_cpu.png)',
     'docs/evidence/yolov3_cards224_cpu.json', PAIRED),
    ('docs/benchmarks.md', '](evidence/ssdlite_cards224_cpu.png)',
     'docs/evidence/ssdlite_cards224_cpu.json',
     {'NetAug': (0, 'netaug'), 'plain': (0, 'plain'),
      '**NetAug − plain**, paired': (0, 'difference')}),
    ('docs/benchmarks.md',
     'Results, report and curves: `docs/evidence/walltime_cards224_cpu',
     'docs/evidence/walltime_cards224_cpu.json',
     {'NetAug (tiny model)': (0, 'netaug'), 'plain': (0, 'plain'),
      'NetAug − plain, paired': (0, 'difference')}),
    # the distillation arms at 5 seeds: kd_cards224_cpu.json's pairs are
    # NetAug + KD / KD, NetAug + KD / NetAug, KD / plain, NetAug / plain
    ('docs/benchmarks.md', '| paired difference, seeds 0-4 |',
     'docs/evidence/kd_cards224_cpu.json',
     {'NetAug + KD − KD': (0, 'difference'),
      'NetAug + KD − NetAug': (1, 'difference'),
      'KD − plain': (2, 'difference'), 'NetAug − plain': (3, 'difference')}),
    ('docs/benchmarks.md', '--work-dir work_dirs/quickstart_spread',
     'docs/evidence/quickstart_cpu.json',
     {'NetAug (tiny model)': (0, 'netaug'), 'plain': (0, 'plain'),
      'NetAug − plain': (0, 'difference')}),
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


def metric_columns(header):
    """{column index: ('mAP' | 'AP50', [seeds])} from the header row. A
    column names its seeds ("mAP, seeds 0 / 1", "seeds 0-4") or takes the
    last ones named ("AP50 per seed")."""
    columns, seeds = {}, None
    for k, cell in enumerate(header):
        listed = re.search(r'(\d+(?: / \d+)+)', cell)
        spanned = re.search(r'seeds (\d+)-(\d+)', cell)
        if listed:
            seeds = [int(s) for s in listed.group(1).split(' / ')]
        elif spanned:
            seeds = list(range(int(spanned.group(1)),
                               int(spanned.group(2)) + 1))
        if 'mean' in cell:
            continue
        metric = 'AP50' if 'AP50' in cell else 'mAP' if 'mAP' in cell \
            else None
        if metric and seeds:
            columns[k] = (metric, seeds)
    return columns


def check_close(doc, value, where):
    assert abs(doc - 100 * value) <= 0.05 + 1e-6, \
        f'{where}: the table says {doc}, the results JSON {100 * value:.2f}'


@pytest.mark.parametrize('doc, anchor, results, rows', TABLES,
                         ids=[f'{t[0]}:{t[2].split("/")[-1]}'
                              for t in TABLES])
def test_paired_table_matches_results(doc, anchor, results, rows):
    lines = (REPO / doc).read_text(encoding='utf-8').splitlines()
    table = table_near(lines, anchor)
    pairs = json.loads((REPO / results).read_text())['pairs']
    columns = metric_columns(table[0])
    assert set(m for m, _ in columns.values()) == {'mAP', 'AP50'}, \
        f'{doc}: no per-seed mAP and AP50 columns in {table[0]}'
    found = set()
    for row in table[2:]:
        if row[0] not in rows:
            continue
        found.add(row[0])
        pair, role = rows[row[0]]
        record = pairs[pair]
        for k, (metric, seeds) in columns.items():
            where = f'{doc}, row {row[0]!r}, {metric}'
            cell = row[k]
            listed = SEED_LIST.match(cell)
            assert listed, f'{where}: no per-seed values in {cell!r}'
            values = [number(v) for v in listed.group(0).split(' / ')]
            assert len(values) == len(seeds), where
            for seed, doc_value in zip(seeds, values):
                if role == 'difference':
                    value = record['difference'][metric]['per_seed'][
                        str(seed)]
                else:
                    run = record[role]['runs'][str(seed)]
                    assert run['status'] == 'finished', \
                        f'{where}: seed {seed} is {run["status"]}'
                    value = run[metric]
                check_close(doc_value, value, f'{where}, seed {seed}')
            if role != 'difference':
                continue
            summary = record['difference'][metric]
            assert summary['n'] == len(seeds), \
                f'{where}: {len(seeds)} seeds listed, {summary["n"]} paired'
            # the mean sits in this cell or in the next column
            stated = MEAN.search(cell) or (
                k + 1 < len(row) and MEAN.search(row[k + 1]))
            if not stated:
                continue  # a table of per-seed differences only
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
