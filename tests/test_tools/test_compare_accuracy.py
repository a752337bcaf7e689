"""Tests of the comparison package (mmdet_netaug.comparison) and its command
line, tools/analysis_tools/compare_accuracy.py, without training: the
holdout split (on the real cards train split), the run options, reading
mmengine's scalars.json, the statistics, the report and the plot."""
import argparse
import json
import math
import os
import statistics
import time

import pytest

from conftest import CARDS_CLASSES, load_config, load_tool

convert_voc_to_coco = load_tool('tools/dataset_converters/voc_to_coco.py').convert_voc_to_coco

NETAUG = 'configs/netaug_ssdlite_mbv2_cards.py'
PLAIN = 'configs/ssdlite_mbv2_w035_cards.py'


@pytest.fixture(scope='module')
def tool():
    """The package's functions, and the command line's parse_args/main."""
    from types import SimpleNamespace

    from mmdet_netaug import comparison
    cli = load_tool('tools/analysis_tools/compare_accuracy.py')
    return SimpleNamespace(**{k: getattr(comparison, k)
                              for k in comparison.__all__},
                           parse_args=cli.parse_args, main=cli.main)


def test_holdout_mask(tool):
    assert [i for i, m in enumerate(tool.holdout_mask(10, 0.2)) if m] == \
        [4, 9]  # every 5th
    assert sum(tool.holdout_mask(296, 0.2)) == 59  # floor(296 * 0.2)
    assert sum(tool.holdout_mask(10, 0.3)) == 3
    assert tool.holdout_mask(7, 0.25) == [False] * 3 + [True] + [False] * 3


def test_split_holdout_cards(tool, cards_root, tmp_path):
    ann_file = tmp_path / 'annotations' / 'train.json'
    coco = convert_voc_to_coco(str(cards_root), 'train', str(ann_file),
                               classes=CARDS_CLASSES)
    train_file, val_file, counts = tool.split_holdout(str(ann_file), 0.2)
    # written next to the split it comes from, named by it and the fraction
    assert train_file == str(tmp_path / 'annotations' /
                             'train_minus_holdout_1of5.json')
    assert val_file == str(tmp_path / 'annotations' /
                           'train_holdout_1of5.json')
    first = [open(f).read() for f in (train_file, val_file)]
    train, val = (json.loads(text) for text in first)

    # disjoint, complete, every 5th image by sorted id
    ids = sorted(im['id'] for im in coco['images'])
    train_ids = {im['id'] for im in train['images']}
    val_ids = {im['id'] for im in val['images']}
    assert not train_ids & val_ids
    assert train_ids | val_ids == set(ids)
    assert sorted(val_ids) == ids[4::5]
    assert counts['holdout_images'] == len(val_ids) == len(ids) // 5
    assert counts['train_images'] == len(train_ids)
    # annotations follow their image, none lost or duplicated
    for part, part_ids in ((train, train_ids), (val, val_ids)):
        assert part['annotations']
        assert all(a['image_id'] in part_ids for a in part['annotations'])
        assert part['categories'] == coco['categories']
    ann_ids = [a['id'] for part in (train, val) for a in part['annotations']]
    assert sorted(ann_ids) == sorted(a['id'] for a in coco['annotations'])
    assert counts['train_annotations'] + counts['holdout_annotations'] == \
        len(coco['annotations'])

    # deterministic: again, and from a shuffled copy of the file
    tool.split_holdout(str(ann_file), 0.2)
    assert [open(f).read() for f in (train_file, val_file)] == first
    shuffled = dict(coco, images=coco['images'][::-1],
                    annotations=coco['annotations'][::-1])
    other = tmp_path / 'shuffled' / 'train.json'
    other.parent.mkdir()
    other.write_text(json.dumps(shuffled))
    _, other_val, _ = tool.split_holdout(str(other), 0.2)
    assert {im['id'] for im in json.load(open(other_val))['images']} == \
        val_ids

    # another fraction, or another file in the same folder, writes its own
    # files and leaves these as they were
    quarter = tool.split_holdout(str(ann_file), 0.25)[:2]
    assert [os.path.basename(f) for f in quarter] == [
        'train_minus_holdout_1of4.json', 'train_holdout_1of4.json']
    trainval = tmp_path / 'annotations' / 'trainval.json'
    trainval.write_text(json.dumps(coco))
    assert os.path.basename(tool.split_holdout(str(trainval), 0.2)[1]) == \
        'trainval_holdout_1of5.json'
    assert [open(f).read() for f in (train_file, val_file)] == first
    assert tool.holdout_names('a/b.json', 0.3) == (
        'b_minus_holdout_3of10.json', 'b_holdout_3of10.json')


def test_another_holdout_fraction_resumes_nothing(tool, cards_root,
                                                  tmp_path):
    """Runs validated on one held-out split are not resumed, nor counted
    as finished, by a comparison with another --holdout in the same
    --work-dir: their options name other split files, so the tool stops
    and says so."""
    data = tmp_path / 'data'
    convert_voc_to_coco(str(cards_root), 'train',
                        str(data / 'annotations' / 'train.json'),
                        classes=CARDS_CLASSES)
    argv = ['--pairs', NETAUG, PLAIN, '--seeds', '0', '--train', 'plain',
            '--work-dir', str(tmp_path / 'work'), '--cfg-options',
            f'train_dataloader.dataset.dataset.data_root={data}/']
    (run,), notes = tool.plan_runs(tool.parse_args(argv + ['--holdout',
                                                           '0.2']))
    assert notes['holdout']['ssdlite_mbv2_w035_cards']['holdout_images'] \
        == 59  # 296 // 5
    assert any(o.endswith('annotations/train_holdout_1of5.json')
               for o in run.options)
    os.makedirs(run.run_dir)
    with open(os.path.join(run.run_dir, 'run.json'), 'w') as f:
        json.dump(dict(config=run.config, options=run.options), f)
    assert tool.run_state(run) == 'restart'
    (other,), _ = tool.plan_runs(tool.parse_args(argv + ['--holdout',
                                                         '0.25']))
    with pytest.raises(SystemExit, match='holds a run of other settings'):
        tool.run_state(other)


def test_a_pointer_to_a_missing_checkpoint_starts_the_run_again(
        tool, tmp_path, capsys):
    """Logs copied without checkpoints (committed records, a GPU lease's
    packed logs) keep ``last_checkpoint``: resuming would fail to load the
    file it names, so the run starts again, and the tool says why."""
    run_dir = write_run(tmp_path, 'netaug_m', 0, {1: (0.1, 0.2)}, 3)
    recorded = json.loads((run_dir / 'run.json').read_text())
    (run_dir / 'run.json').write_text(json.dumps(dict(recorded, options=[])))
    (run_dir / 'done.json').write_text(json.dumps(dict(returncode=-15)))
    run = tool.Run('netaug', 'configs/netaug_m.py', 0, str(run_dir), [], 3)
    assert tool.run_state(run) == 'restart'
    (run_dir / 'last_checkpoint').write_text(
        '/elsewhere/work_dirs/netaug_m/seed0/epoch_1.pth')
    assert tool.run_state(run) == 'restart'
    assert 'epoch_1.pth, which is not there' in capsys.readouterr().out
    # moved or renamed with its checkpoints: the pointer follows the folder
    (run_dir / 'epoch_1.pth').write_bytes(b'')
    assert tool.run_state(run) == 'resume'
    assert (run_dir / 'last_checkpoint').read_text() == str(
        run_dir / 'epoch_1.pth')
    assert 'now names' in capsys.readouterr().out
    assert tool.run_state(run) == 'resume'
    # a finished run whose checkpoints were deleted is finished, silently
    (run_dir / 'epoch_1.pth').unlink()
    (run_dir / 'done.json').write_text(json.dumps(dict(returncode=0)))
    assert tool.run_state(run) == 'finished'
    assert capsys.readouterr().out == ''


def test_schedule_options(tool):
    cfg = load_config('ssdlite_mbv2_w035_cards.py')
    index = [i for i, s in enumerate(cfg.param_scheduler)
             if s['type'] == 'CosineAnnealingLR']
    assert len(index) == 1
    options, warnings = tool.schedule_options(cfg, 7, 1, batch_size=4,
                                              times=2)
    assert not warnings
    for expected in ('train_cfg.max_epochs=7', 'train_cfg.val_interval=1',
                     f'param_scheduler.{index[0]}.T_max=7',
                     f'param_scheduler.{index[0]}.end=7',
                     'train_dataloader.batch_size=4',
                     'train_dataloader.dataset.times=2',
                     'default_hooks.checkpoint.max_keep_ckpts=1',
                     'default_hooks.checkpoint.save_best=None'):
        assert expected in options
    # the options merge as tools/train.py merges them
    cfg.merge_from_dict(tool.parse_cfg_options(options))
    assert cfg.param_scheduler[index[0]]['T_max'] == 7
    assert cfg.default_hooks.checkpoint.save_best is None


def test_schedule_options_stretch_every_epoch_boundary(tool):
    """--epochs stretches a schedule whose epoch boundaries are not just
    a cosine from 0 to the end: RTMDet's cosine over the second half, its
    pipeline switch and its validation every epoch after it, YOLOX's
    warm-up, cosine and last constant epochs, YOLOv3's step milestones;
    each change is said."""
    def stretched(name, epochs):
        cfg = load_config(name)
        options, notes = tool.schedule_options(cfg, epochs, 1)
        cfg.merge_from_dict(tool.parse_cfg_options(options))
        return cfg, notes

    cfg, notes = stretched('netaug_rtmdet_tiny_coco.py', 12)  # of 300
    cosine = cfg.param_scheduler[1]
    assert (cosine.begin, cosine.T_max, cosine.end) == (6, 6, 12)
    assert cfg.param_scheduler[0].end == 1000  # iterations: as it was
    assert cfg.custom_hooks[1].switch_epoch == 11
    # validation every epoch from the switch on, as in the 300 epochs
    assert [tuple(d) for d in cfg.train_cfg.dynamic_intervals] == [(11, 1)]
    assert any('begin 150 -> 6' in n for n in notes)
    assert any('dynamic_intervals' in n and '[(280, 1)] -> [(11, 1)]' in n
               for n in notes)
    # the comparison plans from the config's own schedule: the value it
    # sets itself may be given too; another is refused, naming the value
    pair = ['--pairs', 'configs/netaug_rtmdet_tiny_coco.py',
            'configs/rtmdet_tiny_coco.py', '--seeds', '0', '--epochs', '12']
    runs, _ = tool.plan_runs(tool.parse_args(pair))
    assert all('train_cfg.dynamic_intervals=[(11, 1)]' in r.options
               for r in runs)
    tool.plan_runs(tool.parse_args(
        pair + ['--cfg-options', 'train_cfg.dynamic_intervals=[(11, 1)]']))
    with pytest.raises(ValueError, match=r'itself \(to \[\(11, 1\)\]\)'):
        tool.plan_runs(tool.parse_args(
            pair + ['--cfg-options', 'train_cfg.dynamic_intervals=[(5, 1)]']))
    cfg, notes = stretched('netaug_yolox_tiny_coco.py', 12)
    warmup, cosine, last = cfg.param_scheduler
    assert (warmup.begin, warmup.end) == (0, 1)
    assert (cosine.begin, cosine.end, last.begin, last.end) == (1, 11, 11, 12)
    assert cfg.custom_hooks[0].num_last_epochs == 1
    cfg, notes = stretched('netaug_yolov3_mbv2_320_voc0712.py', 12)  # of 24
    assert cfg.param_scheduler[1].milestones == [10, 11]
    assert notes == ['param_scheduler.1 (MultiStepLR) stretched from 24 to '
                     '12 epochs: milestones [19, 22] -> [10, 11]']


def test_plan_runs_seed_by_seed_and_one_arm(tool, tmp_path):
    """Runs start seed by seed, NetAug then plain, each in its own folder
    with its seed; --train plain (or netaug) plans that arm alone."""
    argv = ['--pairs', NETAUG, PLAIN, '--seeds', '3', '5', '--epochs', '2',
            '--work-dir', str(tmp_path)]
    runs, _ = tool.plan_runs(tool.parse_args(argv))
    assert [(r.role, r.seed) for r in runs] == [
        ('netaug', 3), ('plain', 3), ('netaug', 5), ('plain', 5)]
    assert runs[1].run_dir == str(tmp_path / 'ssdlite_mbv2_w035_cards' /
                                  'seed3')
    assert 'randomness.seed=3' in runs[1].options
    for arm in ('plain', 'netaug'):
        only, _ = tool.plan_runs(tool.parse_args(argv + ['--train', arm]))
        assert [(r.role, r.seed) for r in only] == [(arm, 3), (arm, 5)]
        assert [r.options for r in only] == \
            [r.options for r in runs if r.role == arm]
    with pytest.raises(SystemExit):
        tool.parse_args(argv + ['--train', 'teacher'])
    # --cfg-options given twice (gpu_check.sh adds batched_targets=True to
    # the user's EVIDENCE_OPTIONS) keeps both
    twice, _ = tool.plan_runs(tool.parse_args(
        argv + ['--cfg-options', 'batched_targets=True',
                '--cfg-options', 'memory_format=channels_last']))
    assert {'batched_targets=True', 'memory_format=channels_last'} <= set(
        twice[0].options)


def test_plan_refuses_options_the_comparison_sets_itself(tool, tmp_path):
    """An override of a setting the comparison makes (the seed, the
    validation interval, the epochs, the checkpoints) would be silently
    replaced by the plan, or replace it (--netaug-options come last):
    it stops the plan, naming the option that sets it. The same value as
    the plan's passes."""
    argv = ['--pairs', NETAUG, PLAIN, '--seeds', '0', '--epochs', '2',
            '--work-dir', str(tmp_path)]
    for extra, flag in (
            (['--cfg-options', 'randomness.seed=7'], '--seeds'),
            (['--cfg-options', 'train_cfg.val_interval=5'],
             '--val-interval'),
            (['--cfg-options', 'train_cfg.max_epochs=9'], '--epochs'),
            (['--cfg-options', 'default_hooks.checkpoint.interval=3'],
             'last checkpoint only'),
            (['--netaug-options', 'train_cfg.val_interval=2'],
             '--val-interval'),
            (['--batch-size', '4', '--cfg-options',
              'train_dataloader.batch_size=16'], '--batch-size')):
        with pytest.raises(ValueError, match=flag) as error:
            tool.plan_runs(tool.parse_args(argv + extra))
        assert extra[-1].split('=')[0] in str(error.value)
    runs, _ = tool.plan_runs(tool.parse_args(
        argv + ['--cfg-options', 'train_cfg.max_epochs=2',
                'train_dataloader.batch_size=16']))
    assert 'train_dataloader.batch_size=16' in runs[0].options
    # the length given as an override alone stretches the config's own
    # schedule as --epochs does (it was planned from the overridden
    # config: RTMDet's cosine over epochs 150-300 of 300 began at epoch 12
    # of 12, not at 6)
    rtmdet = ['--pairs', 'configs/netaug_rtmdet_tiny_coco.py',
              'configs/rtmdet_tiny_coco.py', '--seeds', '0', '--work-dir',
              str(tmp_path)]
    by_epochs, _ = tool.plan_runs(tool.parse_args(rtmdet + ['--epochs', '12']))
    by_length, _ = tool.plan_runs(tool.parse_args(
        rtmdet + ['--cfg-options', 'train_cfg.max_epochs=12']))
    for run, same in zip(by_length, by_epochs):
        assert run.epochs == 12
        assert 'param_scheduler.1.begin=6' in run.options
        assert run.options[1:] == same.options


def write_run(work_dir, name, seed, curve, epochs, stamp='20260101_000000',
              done=True):
    """A run folder as the tool and mmengine leave it: run.json, done.json
    and <stamp>/vis_data/scalars.json with training and validation lines.
    ``curve``: {epoch: (mAP, AP50)}."""
    run_dir = work_dir / name / f'seed{seed}'
    vis = run_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    with open(vis / 'scalars.json', 'w') as f:
        for epoch, (map_, ap50) in curve.items():
            f.write(json.dumps(dict(lr=0.01, loss=1.0, loss_cls=1 - map_,
                                    epoch=epoch, iter=10 * epoch,
                                    step=10 * epoch)) + '\n')
            f.write(json.dumps({'coco/bbox_mAP': map_,
                                'coco/bbox_mAP_50': ap50,
                                'pascal_voc/mAP': ap50, 'data_time': 0.1,
                                'time': 0.2, 'step': epoch}) + '\n')
    (run_dir / 'run.json').write_text(json.dumps(dict(
        config=f'configs/{name}.py', seed=seed, epochs=epochs,
        val_file='data/cards/annotations/train_holdout_1of5.json',
        device='cpu: test', invocation='python compare_accuracy.py ...')))
    if done:
        (run_dir / 'done.json').write_text(json.dumps(dict(
            returncode=0, train_time_s=10.0, train_time_total_s=10.0)))
    return run_dir


def test_read_val_metrics_resumed(tool, tmp_path):
    run_dir = write_run(tmp_path, 'm', 0, {1: (0.1, 0.2), 2: (0.2, 0.3),
                                           3: (0.9, 0.9)}, 4, done=False)
    with open(run_dir / '20260101_000000' / 'vis_data' / 'scalars.json',
              'a') as f:
        f.write('{"coco/bbox_mAP": 0.5, "st')  # cut by a kill
    # resumed from the epoch-2 checkpoint: epoch 3 is trained again
    vis = run_dir / '20260101_010000' / 'vis_data'
    vis.mkdir(parents=True)
    vis.joinpath('scalars.json').write_text(''.join(
        json.dumps({'coco/bbox_mAP': m, 'coco/bbox_mAP_50': a, 'step': e})
        + '\n' for e, (m, a) in {3: (0.3, 0.4), 4: (0.4, 0.5)}.items()))
    metrics = tool.read_val_metrics(str(run_dir))
    assert list(metrics) == [1, 2, 3, 4]
    assert metrics[2]['coco/bbox_mAP'] == 0.2
    assert metrics[3]['coco/bbox_mAP'] == 0.3  # the resumed run's
    assert metrics[4]['coco/bbox_mAP_50'] == 0.5


def test_read_train_loss_sums_the_tiny_terms_per_epoch(tool, tmp_path):
    run_dir = write_run(tmp_path, 'm', 0, {1: (0.1, 0.2)}, 2, done=False)
    vis = run_dir / '20260101_010000' / 'vis_data'  # resumed at epoch 2
    vis.mkdir(parents=True)
    lines = [
        # NetAug logs: total, tiny terms, weighted augmented terms
        dict(loss=9.0, loss_cls=3.0, loss_bbox=1.0, aug_loss_cls=4.0,
             aug_loss_bbox=1.0, epoch=2, iter=10),
        dict(loss=7.0, loss_cls=2.0, loss_bbox=1.0, aug_loss_cls=3.0,
             aug_loss_bbox=1.0, epoch=2, iter=20),
        # YOLOv3's terms, another epoch
        dict(loss=5.0, loss_cls=1.0, loss_conf=2.0, loss_xy=0.5,
             loss_wh=0.5, epoch=3, iter=30),
        {'coco/bbox_mAP': 0.5, 'step': 2},
    ]
    vis.joinpath('scalars.json').write_text(''.join(
        json.dumps(line) + '\n' for line in lines))
    losses = tool.read_train_loss(str(run_dir))
    # epoch 1 (first folder): loss_cls 0.9; epochs 2, 3 from the resumed one
    assert losses == {1: pytest.approx(0.9), 2: pytest.approx(3.5),
                      3: pytest.approx(4.0)}


def test_summary_report_plot(tool, tmp_path):
    final = {'netaug_m': {0: (0.30, 0.60), 1: (0.32, 0.64), 2: (0.31, 0.59)},
             'plain_m': {0: (0.25, 0.55), 1: (0.29, 0.57), 2: (0.27, 0.50)}}
    for name, seeds in final.items():
        for seed, (map_, ap50) in seeds.items():
            write_run(tmp_path, name, seed, {1: (map_ / 3, ap50 / 3),
                                             2: (map_ / 2, ap50 / 2),
                                             3: (map_, ap50)}, 3)
    # unfinished: stopped after epoch 2 of 3, not in the statistics
    write_run(tmp_path, 'netaug_m', 3, {1: (0.1, 0.2), 2: (0.9, 0.9)}, 3,
              done=False)
    pairs = [('configs/netaug_m.py', 'configs/plain_m.py')]
    assert tool.find_seeds(str(tmp_path), ['netaug_m', 'plain_m']) == \
        [0, 1, 2, 3]
    summary = tool.summarize(pairs, [0, 1, 2, 3], str(tmp_path))
    entry = summary['pairs'][0]
    assert entry['epochs'] == [3]
    assert entry['netaug']['runs']['3']['status'] == 'incomplete'
    assert entry['plain']['runs']['3']['status'] == 'missing'
    means = {}
    for role, name in (('netaug', 'netaug_m'), ('plain', 'plain_m')):
        model = entry[role]
        assert model['finished_seeds'] == [0, 1, 2]
        for i, metric in enumerate(('mAP', 'AP50')):
            values = [final[name][s][i] for s in (0, 1, 2)]
            stats = model[metric]
            assert stats['values'] == values and stats['n'] == 3
            assert stats['mean'] == pytest.approx(statistics.mean(values))
            assert stats['std'] == pytest.approx(statistics.stdev(values))
            means[role, metric] = stats
        curve = model['runs']['0']['curve']
        assert curve['epoch'] == [1, 2, 3]
        assert curve['mAP'][-1] == final[name][0][0]
    for i, metric in enumerate(('mAP', 'AP50')):
        a, b = means['netaug', metric], means['plain', metric]
        diff = entry['difference'][metric]
        # paired by seed: seed 3 (NetAug incomplete) is not a pair
        per_seed = [final['netaug_m'][s][i] - final['plain_m'][s][i]
                    for s in (0, 1, 2)]
        assert diff['n'] == 3
        assert list(diff['per_seed']) == ['0', '1', '2']
        assert list(diff['per_seed'].values()) == pytest.approx(per_seed)
        assert diff['mean'] == pytest.approx(a['mean'] - b['mean'])
        assert diff['standard_error'] == pytest.approx(
            statistics.stdev(per_seed) / math.sqrt(3))
        assert diff['standard_error'] != pytest.approx(
            math.sqrt(a['std']**2 / 3 + b['std']**2 / 3))
        # 95% interval from Student's t with 2 degrees of freedom (4.303)
        half = 4.302653 * diff['standard_error']
        assert diff['ci95'] == pytest.approx(
            [diff['mean'] - half, diff['mean'] + half], rel=1e-5)

    report = tool.format_report(summary, tool.report_header(
        summary, 'python tools/analysis_tools/compare_accuracy.py ...',
        'cpu: test', 12.0))
    assert '- command: `python tools/analysis_tools/compare_accuracy.py' \
        in report
    assert 'device: cpu: test' in report
    assert '| 1 | NetAug | `netaug_m` | 3 | 0, 1, 2 | 30.0 / 32.0 / 31.0 ' \
        '| 31.0 ± 1.0 |' in report
    assert '| 1 | plain | `plain_m` | 3 | 0, 1, 2 | 25.0 / 29.0 / 27.0 ' \
        '| 27.0 ± 2.0 |' in report
    # mAP: 31.0 - 27.0; differences 5, 3, 4: s.e. 1 / sqrt(3), t(2) 4.303
    assert '**+4.0** (s.e. 0.6; 95% CI +1.5 to +6.5)' in report
    # train loss (here 1 - final mAP): NetAug 0.690, plain 0.730
    assert entry['netaug']['train_loss']['mean'] == pytest.approx(0.69)
    assert '| 0.690 ± 0.010 |' in report
    assert '| -0.040 (s.e. 0.006) |' in report
    assert report.count('netaug_m seed 3: incomplete') == 1
    # epochs 1-3: the last fifth (epoch >= 2.4) holds one value: no range
    assert entry['netaug']['runs']['0']['last_fifth_change'] == {}
    assert tool.last_fifth_change(
        dict(epoch=[2, 8, 9, 10], AP50=[0.1, 0.50, 0.53, 0.52],
             mAP=[0.0, 0.3, 0.3, 0.3]), 10) == dict(
                 AP50=pytest.approx(0.03), mAP=pytest.approx(0.0))
    assert 'train_holdout_1of5.json' in report

    # a run in two pairs (the distillation suite) is listed once
    write_run(tmp_path, 'netaug_m', 4, {e: (0.3, 0.5 + e / 100)
                                        for e in range(1, 11)}, 10)
    twice = tool.format_report(tool.summarize(
        pairs * 2, [4], str(tmp_path)), [])
    assert twice.count('netaug_m seed 4: 2.0') == 1

    # the plot shows the seeds both arms finished, not netaug's seed 3
    assert tool.plotted_seeds(entry) == {'netaug': ['0', '1', '2'],
                                         'plain': ['0', '1', '2']}
    # no seed finished by both: each arm's finished ones; none: every run
    unpaired = {'netaug': {'runs': {'0': {}, '1': {}},
                           'finished_seeds': [0]},
                'plain': {'runs': {'1': {}}, 'finished_seeds': []}}
    assert tool.plotted_seeds(unpaired) == {'netaug': ['0'],
                                            'plain': ['1']}
    png = tmp_path / 'curves.png'
    tool.plot_curves(summary, str(png))
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert os.path.getsize(png) > 1000


def test_unfinished_seeds_compared_at_the_last_common_epoch(tool, tmp_path):
    """A seed one arm has not finished is out of the statistics, but the
    report shows both arms at the last epoch both validated."""
    write_run(tmp_path, 'netaug_p', 0, {2: (0.20, 0.40), 4: (0.30, 0.50)}, 8,
              done=False)
    write_run(tmp_path, 'plain_p', 0, {2: (0.25, 0.45), 4: (0.28, 0.53),
                                       6: (0.3, 0.6), 8: (0.31, 0.6)}, 8)
    for name in ('netaug_p', 'plain_p'):  # both finished: in the statistics
        write_run(tmp_path, name, 1, {8: (0.3, 0.5)}, 8)
    write_run(tmp_path, 'netaug_p', 2, {2: (0.1, 0.2)}, 8, done=False)
    summary = tool.summarize([('configs/netaug_p.py', 'configs/plain_p.py')],
                             [0, 1, 2], str(tmp_path))
    matched = summary['pairs'][0]['matched_epoch']
    assert list(matched) == ['0']  # seed 2's plain run is missing
    assert matched['0']['epoch'] == 4
    assert matched['0']['netaug'] == dict(mAP=0.30, AP50=0.50)
    assert matched['0']['difference'] == dict(mAP=pytest.approx(0.02),
                                              AP50=pytest.approx(-0.03))
    report = tool.format_report(summary)
    assert ('- netaug_p seed 0, epoch 4 (NetAug incomplete, plain '
            'finished): NetAug 30.0 / 50.0, plain 28.0 / 53.0; NetAug − '
            'plain +2.0 / -3.0') in report
    # seed 1, equal in both arms: a difference of zero is written unsigned
    difference = next(line for line in report.splitlines()
                      if '**NetAug − plain**' in line)
    assert difference.endswith('| 1 | 0.0 | **0.0** | 0.0 | **0.0** | '
                               '0.000 |'), difference
    # another schedule (30 against 72 epochs): epoch k is not comparable
    write_run(tmp_path, 'plain_q', 0, {2: (0.25, 0.45)}, 72, done=False)
    other = tool.summarize([('configs/netaug_p.py', 'configs/plain_q.py')],
                           [0], str(tmp_path))
    assert other['pairs'][0]['matched_epoch'] == {}


def test_last_fifth_mean_paired(tool, tmp_path):
    """Besides the final epoch, each pair is compared over each run's mean
    of its last fifth's validations (epochs >= 0.8 x the schedule), paired
    by seed, finished runs only."""
    assert tool.last_fifth_mean(
        dict(epoch=[2, 8, 9, 10], AP50=[0.1, 0.50, 0.53, 0.56],
             mAP=[0.0, 0.3, 0.3, None]), 10) == dict(
                 AP50=pytest.approx(0.53), mAP=pytest.approx(0.3))
    # 10 epochs: the last fifth is epochs 8 and 10 (validated every 2)
    curves = {('netaug_s', 0): {6: (0.9, 0.9), 8: (0.20, 0.40),
                                10: (0.30, 0.50)},
              ('plain_s', 0): {6: (0.0, 0.0), 8: (0.25, 0.50),
                               10: (0.27, 0.50)},
              ('netaug_s', 1): {8: (0.40, 0.60), 10: (0.40, 0.70)},
              ('plain_s', 1): {8: (0.30, 0.60), 10: (0.30, 0.60)}}
    for (name, seed), curve in curves.items():
        write_run(tmp_path, name, seed, curve, 10)
    write_run(tmp_path, 'netaug_s', 2, {8: (0.9, 0.9)}, 10, done=False)
    write_run(tmp_path, 'plain_s', 2, {8: (0.1, 0.1), 10: (0.1, 0.1)}, 10)
    summary = tool.summarize([('configs/netaug_s.py', 'configs/plain_s.py')],
                             [0, 1, 2], str(tmp_path))
    entry = summary['pairs'][0]
    assert entry['netaug']['runs']['0']['last_fifth_mean'] == dict(
        mAP=pytest.approx(0.25), AP50=pytest.approx(0.45))
    assert entry['netaug']['runs']['2']['last_fifth_mean'] is None
    smoothed = entry['difference_last_fifth']
    # seed 0: 0.25 - 0.26 and 0.45 - 0.50; seed 1: 0.10 and 0.05
    assert smoothed['mAP']['per_seed'] == dict(
        {'0': pytest.approx(-0.01), '1': pytest.approx(0.10)})
    assert smoothed['AP50']['mean'] == pytest.approx(0.0)
    assert smoothed['AP50']['standard_error'] == pytest.approx(0.05)
    # the final epoch's differences are not these: +0.03 and +0.10 mAP
    assert entry['difference']['mAP']['per_seed'] == dict(
        {'0': pytest.approx(0.03), '1': pytest.approx(0.10)})
    report = tool.format_report(summary)
    assert ('- pair 1, NetAug − plain, seeds 0, 1: mAP -1.0 / +10.0, mean '
            '**+4.5** (s.e. 5.5; 95% CI -65.4 to +74.4); AP50 -5.0 / +5.0, '
            'mean **0.0** (s.e. 5.0;') in report


def test_last_fifth_trend_fits_a_line(tool, tmp_path):
    """How a curve ends: the least-squares change over the last fifth
    (slope x 0.2 x epochs), where the range of last_fifth_change adds up
    the jitter; per run, then mean and s.e. over an arm's finished seeds."""
    # 20 epochs: the last fifth is epochs 16-20; rising 1 AP50 point per
    # epoch under a +-3 jitter: the range says 9, the line 4 (4 epochs)
    jittery = dict(epoch=[10, 16, 17, 18, 19, 20],
                   AP50=[0.0, 0.19, 0.14, 0.21, 0.16, 0.23],
                   mAP=[0.0, 0.1, 0.1, 0.1, 0.1, 0.1])
    trend = tool.last_fifth_trend(jittery, 20)
    assert trend['mAP'] == pytest.approx(0.0)
    assert trend['AP50'] == pytest.approx(0.04)
    assert tool.last_fifth_change(jittery, 20)['AP50'] == pytest.approx(0.09)
    # one validation in the last fifth: no line
    assert tool.last_fifth_trend(dict(epoch=[10, 20], AP50=[0.1, 0.2],
                                      mAP=[0.1, 0.2]), 20) == {}
    for seed, rise in enumerate((0.01, 0.03)):
        write_run(tmp_path, 'netaug_t', seed, {
            e: (0.2, 0.5 + rise * e) for e in (14, 16, 18, 20)}, 20)
        write_run(tmp_path, 'plain_t', seed, {
            e: (0.2, 0.5) for e in (14, 16, 18, 20)}, 20)
    write_run(tmp_path, 'netaug_t', 2, {16: (0.2, 0.9)}, 20, done=False)
    summary = tool.summarize([('configs/netaug_t.py', 'configs/plain_t.py')],
                             [0, 1, 2], str(tmp_path))
    entry = summary['pairs'][0]
    assert entry['netaug']['runs']['2']['last_fifth_trend'] is None
    netaug = entry['netaug']['last_fifth_trend']['AP50']
    # 4 epochs x 0.01 and 0.03 per epoch
    assert netaug['values'] == [pytest.approx(0.04), pytest.approx(0.12)]
    assert netaug['mean'] == pytest.approx(0.08)
    assert entry['plain']['last_fifth_trend']['AP50']['mean'] == \
        pytest.approx(0.0)
    report = tool.format_report(summary)
    assert 'netaug_t +8.0 (2 seeds, s.e. 4.0; per seed +4.0 / +12.0)' \
        in report
    assert 'plain_t 0.0 (2 seeds, s.e. 0.0; per seed 0.0 / 0.0)' in report


def test_run_that_exited_without_its_final_validation_resumes(
        tool, tmp_path):
    """Exit 0 and a final checkpoint, but no final metrics (a resume at the
    final checkpoint before FinalValidationHook): trained again, i.e.
    resumed, which validates it."""
    run_dir = write_run(tmp_path, 'netaug_m', 0, {1: (0.1, 0.2),
                                                  2: (0.2, 0.3)}, 3)
    recorded = json.loads((run_dir / 'run.json').read_text())
    (run_dir / 'run.json').write_text(json.dumps(dict(recorded, options=[])))
    run = tool.Run('netaug', 'configs/netaug_m.py', 0, str(run_dir), [], 3)
    assert tool.run_state(run) == 'finished'  # no checkpoint to resume from
    (run_dir / 'last_checkpoint').write_text(str(run_dir / 'epoch_3.pth'))
    (run_dir / 'epoch_3.pth').write_bytes(b'')
    assert tool.run_state(run) == 'resume'
    with open(next(run_dir.glob('*/vis_data/scalars.json')), 'a') as f:
        f.write(json.dumps({'coco/bbox_mAP': 0.3, 'coco/bbox_mAP_50': 0.4,
                            'step': 3}) + '\n')
    assert tool.run_state(run) == 'finished'


def test_summarize_only_command_line(tool, tmp_path):
    """--summarize-only reads the runs and writes the results, the report
    and the curves, training nothing."""
    for name, offset in (('netaug_m', 0.02), ('plain_m', 0.0)):
        for seed in (0, 1):
            write_run(tmp_path, name, seed,
                      {1: (0.1, 0.2), 2: (0.3 + offset + seed / 100, 0.5)},
                      2)
    out = tmp_path / 'out' / 'results.json'
    summary = tool.main(['--pairs', 'configs/netaug_m.py',
                         'configs/plain_m.py', '--work-dir', str(tmp_path),
                         '--summarize-only', '--out', str(out)])
    assert json.loads(out.read_text())['seeds'] == [0, 1]
    assert out.with_suffix('.md').is_file()
    assert (tmp_path / 'curves.png').is_file()
    difference = summary['pairs'][0]['difference']['mAP']
    assert difference['n'] == 2 and difference['mean'] == pytest.approx(0.02)
    # a typo in a config's name or in --work-dir: an error, and the
    # report already written stays as it was
    written = {p: p.read_bytes() for p in (out, out.with_suffix('.md'),
                                           tmp_path / 'curves.png')}
    for pairs, work_dir in ((['configs/netaug_n.py', 'configs/plain_m.py'],
                             tmp_path),
                            (['configs/netaug_m.py', 'configs/plain_m.py'],
                             tmp_path / 'typo')):
        with pytest.raises(SystemExit, match=f'Error: {work_dir} holds no '
                           f'runs of {pairs[0]}.*no report was written'):
            tool.main(['--pairs', *pairs, '--work-dir', str(work_dir),
                       '--summarize-only', '--out', str(out)])
    assert {p: p.read_bytes() for p in written} == written
    assert not (tmp_path / 'typo').exists()
    # an existing config not trained yet is reported as such
    summary = tool.main(['--pairs', 'configs/netaug_ssdlite_mbv2.py',
                         'configs/plain_m.py', '--work-dir', str(tmp_path),
                         '--summarize-only', '--out', str(out)])
    runs = summary['pairs'][0]['netaug']['runs']
    assert sorted(runs) == ['0', '1']
    assert all(run['AP50'] is None for run in runs.values())
    with pytest.raises(SystemExit):
        tool.parse_args(['--pairs', 'a.py', 'b.py', '--seeds', '0', '-1'])


def test_evidence_script_pairs_netaug_with_its_plain_twin():
    """Every pair tools/analysis_tools/netaug_evidence.sh trains is an
    existing NetAug config and the plain config it wraps (or, for the
    distillation suite, two existing configs of the same tiny model): a
    renamed config fails here rather than hours into a GPU run. The
    equal-cost arm pairs NetAug with a longer schedule of its twin."""
    import re

    from conftest import REPO
    text = (REPO / 'tools/analysis_tools/netaug_evidence.sh').read_text()
    blocks = re.findall(r'--pairs((?:\s+\\?\s*"?\$?[\w/.{}$]+\.py"?)+)',
                        text) + re.findall(r'pairs=\(([^)]*)\)', text)
    assert len(blocks) == 8  # hardshapes, kd, walltime, wide, wide_72e,
    #                          yolov3_72e, cuda, cpu
    checked = 0
    for block in blocks:
        names = re.findall(r'(?:configs|\$c)/([\w$]+\.py)', block)
        assert names and len(names) % 2 == 0, block
        for size in ('', '_224'):
            paths = [REPO / 'configs' / n.replace('$size', size)
                     for n in names]
            if '$size' not in block and size:
                continue
            for path in paths:
                assert path.is_file(), f'{path.name} named in the script'
            for netaug, plain in zip(paths[::2], paths[1::2]):
                if netaug.name.startswith(('netaug_kd_', 'kd_')):
                    continue
                # the twin, or (the equal-cost arm) a longer schedule of it
                twin = re.search(r"_base_ = \['\./(\w+\.py)'",
                                 netaug.read_text()).group(1)
                assert plain.name == twin or f"'./{twin}'" in \
                    plain.read_text(), (netaug.name, plain.name)
                checked += 1
    assert checked >= 9


def test_evidence_script_refuses_a_suite_it_does_not_have(tmp_path):
    """A misspelt SUITE stops the evidence script at once with the suites
    it has, instead of training the default suite for hours; nothing is
    written and Python is not started (PYTHON points to a command that
    would fail)."""
    import os
    import subprocess

    from conftest import REPO
    script = REPO / 'tools/analysis_tools/netaug_evidence.sh'
    for suite in ('wide72', 'wide wide_72e', 'Cards'):
        env = dict(os.environ, SUITE=suite, PYTHON='false',
                   WORK_DIR=str(tmp_path / 'work'))
        result = subprocess.run(['bash', str(script)], env=env,
                                capture_output=True, text=True)
        assert result.returncode == 2, (suite, result.stderr)
        assert f'SUITE={suite} is not a suite' in result.stderr
        assert 'wide_72e yolov3_72e' in result.stderr
    assert not (tmp_path / 'work').exists()


def test_an_option_that_changes_nothing_is_the_same_setting(tool, tmp_path):
    """A run recorded with an option that sets what its config already has
    (YOLOv3 72e NetAug seed 3: memory_format=channels_last, the config's
    own) resumes and counts as finished like the others; an option that
    changes the config does not."""
    config = 'configs/yolov3_mbv2_w035_cards_224_72e.py'
    argv = ['--pairs', 'configs/netaug_yolov3_mbv2_cards_224_72e.py', config,
            '--seeds', '0', '--train', 'plain', '--work-dir', str(tmp_path)]
    (run,), _ = tool.plan_runs(tool.parse_args(argv))
    os.makedirs(run.run_dir)
    for extra, same in (('memory_format=channels_last', True),
                        ('memory_format=contiguous_format', False)):
        options = run.options + [extra]
        assert tool.same_settings(run.config, options, run.options) is same
        with open(os.path.join(run.run_dir, 'run.json'), 'w') as f:
            json.dump(dict(config=run.config, options=options), f)
        if same:
            assert tool.run_state(run) == 'restart'
            assert tool.settings_mismatches([run]) == []
        else:
            with pytest.raises(SystemExit, match='other settings'):
                tool.run_state(run)
            assert len(tool.settings_mismatches([run])) == 1


def test_summarize_only_says_which_settings_the_runs_did_not_use(
        tool, tmp_path, capsys):
    """--summarize-only states its command's settings (--epochs,
    --batch-size, ...) in the results; where the runs were trained with
    others, it says which, run by run, and records them."""
    argv = ['--pairs', NETAUG, PLAIN, '--seeds', '0', '--epochs', '2',
            '--val-interval', '2', '--work-dir', str(tmp_path / 'w'),
            '--out', str(tmp_path / 'r.json'),
            '--plot', str(tmp_path / 'r.png')]
    runs, _ = tool.plan_runs(tool.parse_args(argv))
    for run in runs:
        name = os.path.basename(os.path.dirname(run.run_dir))
        write_run(tmp_path / 'w', name, 0, {2: (0.3, 0.5)}, 2)
        (tmp_path / 'w' / name / 'seed0' / 'run.json').write_text(
            json.dumps(dict(config=run.config, options=run.options,
                            epochs=2)))
    assert tool.settings_mismatches(runs) == []
    summary = tool.main(argv + ['--summarize-only'])
    assert summary['settings_differ_from_runs'] == []
    other, _ = tool.plan_runs(tool.parse_args(argv + ['--batch-size', '4']))
    found = tool.settings_mismatches(other)
    assert len(found) == 2 and "this command gives " \
        "['train_dataloader.batch_size=4']" in found[0]
    capsys.readouterr()
    summary = tool.main(argv + ['--batch-size', '4', '--summarize-only'])
    assert summary['settings_differ_from_runs'] == found
    assert "warning: not this command's settings: " in \
        capsys.readouterr().out
    # the markdown report says so too, under its command
    report = (tmp_path / 'r.md').read_text()
    assert f"- not this command's settings: {found[0]}" in report


def test_a_metric_key_no_run_logged_is_an_error(tool, tmp_path):
    """A misspelt --ap50-key (or the keys of another evaluator) stops the
    report, listing the keys the runs logged, instead of a table of n/a;
    a key the runs logged reads."""
    write_run(tmp_path, 'netaug_m', 0, {1: (0.3, 0.5), 2: (0.35, 0.55)}, 2)
    write_run(tmp_path, 'plain_m', 0, {1: (0.2, 0.4), 2: (0.25, 0.45)}, 2)
    pairs = [('configs/netaug_m.py', 'configs/plain_m.py')]
    with pytest.raises(ValueError, match='--ap50-key coco/bbox_mAP50: no '
                       'run logged') as error:
        tool.summarize(pairs, [0], str(tmp_path),
                       dict(mAP='coco/bbox_mAP', AP50='coco/bbox_mAP50'))
    assert 'coco/bbox_mAP_50, pascal_voc/mAP' in str(error.value)
    summary = tool.summarize(pairs, [0], str(tmp_path),
                             dict(mAP='coco/bbox_mAP', AP50='pascal_voc/mAP'))
    assert summary['pairs'][0]['netaug']['AP50']['mean'] == 0.55
    # nothing validated yet: nothing to check
    assert tool.summarize(pairs, [1], str(tmp_path), dict(mAP='x', AP50='y'))


def test_a_run_another_sitting_trains_is_left_alone(tmp_path, capsys):
    """Two sittings on one --work-dir never train the same run at once: the
    second leaves a run whose folder another process holds (RunLock),
    writes nothing into it, says who holds it and counts it as left for a
    later sitting; once the lock is free the run trains."""
    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.running import RunLock, train_all

    script = tmp_path / 'train.py'
    script.write_text('pass\n')
    run_dir = tmp_path / 'm' / 'seed0'
    run_dir.mkdir(parents=True)
    run = Run('plain', 'x.py', 0, str(run_dir), [], epochs=1)
    other = RunLock(str(run_dir))
    assert other.acquire()
    other.note(since='2026-11-29 10:00:00')
    args = argparse.Namespace(jobs=1, threads=1, train_script=str(script),
                              stop_by=None, map_key='m', ap50_key='a')
    assert train_all([run], args, 'test', 'cpu') == (True, 1)
    out = capsys.readouterr().out
    assert f'skipped x seed 0: another process is training it (pid ' \
        f'{os.getpid()}, since 2026-11-29 10:00:00)' in out
    assert sorted(os.listdir(run_dir)) == ['.lock']
    other.release()
    assert train_all([run], args, 'test', 'cpu') == (True, 0)
    assert json.loads((run_dir / 'done.json').read_text())['returncode'] == 0


def test_a_killed_sitting_still_counts_in_the_training_time(tmp_path):
    """A comparison killed outright (SIGKILL: no final record) leaves the
    heartbeat record of its training's time in done.json, and the next
    sitting adds its own to it; while the killed sitting's training still
    runs, the next sitting leaves the run alone (the training holds the
    folder's lock)."""
    import signal
    import subprocess
    import sys
    import time

    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.running import Launcher

    # stands in for tools/train.py: sleeps for the seconds its options say
    script = tmp_path / 'train.py'
    script.write_text('import sys, time\n'
                      'time.sleep(float(sys.argv[sys.argv.index('
                      '"--cfg-options") + 1]))\n')
    run_dir = tmp_path / 'run'
    sitting = (
        'import sys\n'
        'from mmdet_netaug.comparison.planning import Run\n'
        'from mmdet_netaug.comparison.running import Launcher\n'
        f'run = Run("plain", "x.py", 0, {str(run_dir)!r}, ["5"])\n'
        f'Launcher(None, "test", "cpu", {str(script)!r}, heartbeat_s=0.1)'
        '.train(run, resume=False)\n')
    first = subprocess.Popen([sys.executable, '-c', sitting],
                             start_new_session=True)
    done_file = run_dir / 'done.json'
    deadline = time.time() + 60
    while time.time() < deadline:  # until 1 s of training is recorded
        time.sleep(0.1)
        if done_file.is_file():
            done = json.loads(done_file.read_text())
            if done['train_time_total_s'] > 1:
                break
    os.killpg(first.pid, signal.SIGKILL)  # the comparison, not its child
    first.wait()
    killed = json.loads(done_file.read_text())
    assert killed['returncode'] is None and killed['running']
    assert 'updated' in killed and 'ended' not in killed
    assert killed['train_time_total_s'] > 1

    run = Run('plain', 'x.py', 0, str(run_dir), ['0.3'])
    launcher = Launcher(None, 'test', 'cpu', str(script), heartbeat_s=0.1)
    # the killed sitting's training still runs (5 s) and holds the folder
    busy = launcher.train(run, resume=True)
    assert busy['returncode'] is None and 'training_pid' in busy['busy']
    assert json.loads(done_file.read_text()) == killed  # nothing written
    while time.time() < deadline + 10:
        done = launcher.train(run, resume=True)
        if not done.get('busy'):
            break
        time.sleep(0.2)
    assert done['returncode'] == 0 and 'running' not in done
    assert done['train_time_s'] >= 0.3
    assert done['train_time_total_s'] == pytest.approx(
        killed['train_time_total_s'] + done['train_time_s'])
    assert json.loads(done_file.read_text()) == done


def test_every_sitting_of_a_resumed_run_is_recorded(tmp_path):
    """run.json keeps each sitting's command, not only the latest, and the
    report lists them all; a record from before (one sitting, no list)
    still reads as that sitting."""
    from mmdet_netaug.comparison.constants import DEFAULT_KEYS
    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.report import report_header
    from mmdet_netaug.comparison.results import summarize_run
    from mmdet_netaug.comparison.running import Launcher

    script = tmp_path / 'train.py'
    script.write_text('pass\n')
    run_dir = tmp_path / 'm' / 'seed0'
    run = Run('plain', 'x.py', 0, str(run_dir), [])
    run_dir.mkdir(parents=True)
    # as an older version of the tool left it
    (run_dir / 'run.json').write_text(json.dumps(dict(
        config='x.py', options=[], command='python train.py x.py',
        invocation='compare --seeds 0 1', device='cpu: old', threads='1')))
    assert summarize_run(str(run_dir), DEFAULT_KEYS)['invocations'] == [
        'compare --seeds 0 1']
    for invocation in ('compare --seeds 0 --time-limit 10:00',
                       'compare --seeds 0 --time-limit 10:00',
                       'compare --seeds 0 2'):
        assert Launcher(None, invocation, 'cpu: new', str(script)).train(
            run, resume=True)['returncode'] == 0
    recorded = json.loads((run_dir / 'run.json').read_text())
    assert [s['invocation'] for s in recorded['sittings']] == [
        'compare --seeds 0 1', 'compare --seeds 0 --time-limit 10:00',
        'compare --seeds 0 --time-limit 10:00', 'compare --seeds 0 2']
    assert recorded['sittings'][0]['device'] == 'cpu: old'
    assert 'started' in recorded['sittings'][-1]
    assert recorded['invocation'] == 'compare --seeds 0 2'
    assert recorded['command'].endswith('--resume')
    summary = summarize_run(str(run_dir), DEFAULT_KEYS)
    assert summary['invocations'] == [
        'compare --seeds 0 1', 'compare --seeds 0 --time-limit 10:00',
        'compare --seeds 0 2']
    header = report_header(
        dict(pairs=[dict(netaug=dict(runs={}), plain=dict(
            runs={'0': summary}))], keys=DEFAULT_KEYS),
        'report --summarize-only', 'cpu: new', 1.0)
    assert [line for line in header if 'runs trained by' in line] == [
        f'- runs trained by: `{inv}`' for inv in sorted(
            summary['invocations'])]


# stands in for tools/train.py as mmengine runs it: every epoch saves a
# checkpoint, writes last_checkpoint (truncated first, as mmengine does),
# then validates (0.3 s) and logs the epoch's metrics to scalars.json
FAKE_TRAINING = """\
import json, os, sys, time
work_dir = sys.argv[sys.argv.index('--work-dir') + 1]
options = dict(o.split('=') for o in sys.argv if o.startswith('fake.'))
epoch_s, epochs = float(options['fake.epoch_s']), int(options['fake.epochs'])
logs = os.path.join(work_dir, time.strftime('%Y%m%d_%H%M%S'), 'vis_data')
os.makedirs(logs, exist_ok=True)
for epoch in range(1, epochs + 1):
    time.sleep(epoch_s)
    checkpoint = os.path.join(work_dir, f'epoch_{epoch}.pth')
    open(checkpoint, 'w').close()
    with open(os.path.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.flush()
        time.sleep(0.05)
        f.write(checkpoint)
    time.sleep(0.3)
    with open(os.path.join(logs, 'scalars.json'), 'a') as f:
        f.write(json.dumps({'coco/bbox_mAP': 0.1, 'step': epoch}) + '\\n')
"""


def test_time_limit_stops_after_the_last_epoch_in_time(tmp_path):
    """With a time limit, a training stops just after the last epoch whose
    checkpoint and validation come in time, judged by the time between
    epochs; a run stopped so is incomplete, not failed; none starts after
    the limit."""
    import time

    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.results import summarize_run
    from mmdet_netaug.comparison.running import Launcher

    script = tmp_path / 'train.py'
    script.write_text(FAKE_TRAINING)
    run_dir = tmp_path / 'run'
    # 1.35 s epochs (with validation), 30 of them: far past the 10 s limit
    run = Run('plain', 'x.py', 0, str(run_dir),
              ['train_cfg.val_interval=1', 'fake.epoch_s=1.0',
               'fake.epochs=30'], epochs=30)
    start = time.time()
    launcher = Launcher(None, 'test', 'cpu', str(script), heartbeat_s=0.5,
                        stop_by=start + 10, poll_s=0.02)
    done = launcher.train(run, resume=False)
    assert done['returncode'] != 0 and not done['interrupted']
    last = int((run_dir / 'last_checkpoint').read_text()
               .split('epoch_')[1].split('.')[0])
    # stopped after that epoch's validation, before the next checkpoint,
    # and so before the limit
    assert done['time_limit'] == (f'after epoch {last} (checkpoint and '
                                  'validation), the last in time')
    assert 3 <= last < 30
    logged = [json.loads(line)['step'] for line in
              next(run_dir.glob('*/vis_data/scalars.json')).read_text()
              .splitlines()]
    assert logged[-1] == last
    assert not (run_dir / f'epoch_{last + 1}.pth').exists()
    summary = summarize_run(str(run_dir), {'mAP': 'coco/bbox_mAP'}, 30)
    assert summary['status'] == 'incomplete'
    # past the limit nothing starts
    time.sleep(max(0.0, start + 10 - time.time()))
    assert launcher.train(run, resume=True) == dict(returncode=None,
                                                    cancelled=True)


def test_time_limit_option():
    cli = load_tool('tools/analysis_tools/compare_accuracy.py')
    args = cli.parse_args(['--pairs', NETAUG, PLAIN, '--time-limit', '90m'])
    assert args.time_limit == 5400
    assert cli.duration('1.5h') == 5400 and cli.duration('20') == 20
    with pytest.raises(SystemExit):
        cli.parse_args(['--pairs', NETAUG, PLAIN, '--time-limit', '2 days'])
    assert cli.parse_args(['--pairs', NETAUG, PLAIN]).stop_by is None


def test_time_limit_at_a_clock_time():
    """'HH:MM' is the time until its next occurrence on the local clock,
    across midnight too."""
    cli = load_tool('tools/analysis_tools/compare_accuracy.py')
    local = time.localtime()
    # 22:30:00 today, local time
    evening = time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 22,
                           30, 0, 0, 0, -1))
    assert cli.duration('23:15', now=evening) == 45 * 60
    assert cli.duration('00:45', now=evening) == 2.25 * 3600
    assert cli.duration('22:30', now=evening) == 24 * 3600
    assert cli.duration('9:05', now=evening + 0.5) == 10.5 * 3600 + 300 - 0.5
    for bad in ('24:00', '12:60', '12:5', '-00:10'):
        with pytest.raises(argparse.ArgumentTypeError, match='HH:MM'):
            cli.duration(bad)
    args = cli.parse_args(['--pairs', NETAUG, PLAIN, '--time-limit', '00:45'])
    assert 0 < args.time_limit <= 24 * 3600
    assert args.stop_by == pytest.approx(time.time() + args.time_limit,
                                         abs=5)


def test_paired_difference_interval(tool):
    """One pair has no spread, so no standard error and no interval; with
    two the interval is 12.7 standard errors wide on each side."""
    one = tool.paired_difference({'0': {'mAP': 0.4}}, {'0': {'mAP': 0.3}},
                                 'mAP')
    assert one['n'] == 1 and one['mean'] == pytest.approx(0.1)
    assert one['standard_error'] is None and one['ci95'] is None
    two = tool.paired_difference(
        {'0': {'mAP': 0.4}, '1': {'mAP': 0.5}, '2': {'mAP': None}},
        {'0': {'mAP': 0.3}, '1': {'mAP': 0.3}, '2': {'mAP': 0.3}}, 'mAP')
    assert two['n'] == 2 and list(two['per_seed']) == ['0', '1']
    assert two['standard_error'] == pytest.approx(0.05)
    assert two['ci95'] == pytest.approx([0.15 - 12.7062 * 0.05,
                                         0.15 + 12.7062 * 0.05], rel=1e-4)


def test_a_run_that_cannot_reach_its_first_checkpoint_does_not_start(
        tmp_path, capsys):
    """Under a time limit, a run whose next checkpoint (its time per epoch
    from its own records, or from the other runs of its config) would
    come after the limit waits for the next sitting instead of training
    for nothing; one that gets there in time starts."""
    import time
    from types import SimpleNamespace

    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.running import (Launcher, first_checkpoint_s,
                                                 train_all)

    def record(run, total_s, epochs):
        logs = tmp_path / run.run_dir / '20260101_000000' / 'vis_data'
        logs.mkdir(parents=True)
        (logs / 'scalars.json').write_text(''.join(
            json.dumps({'coco/bbox_mAP': 0.1, 'step': e}) + '\n'
            for e in range(2, epochs + 1, 2)))
        (tmp_path / run.run_dir / 'run.json').write_text(json.dumps(dict(
            config=run.config, options=run.options)))
        (tmp_path / run.run_dir / 'done.json').write_text(json.dumps(dict(
            returncode=0 if epochs == run.epochs else None,
            train_time_total_s=total_s)))

    options = ['default_hooks.checkpoint.interval=2', 'fake.epoch_s=0.01',
               'fake.epochs=2']
    finished, new, resumed, other = (
        Run('plain', config, seed, str(tmp_path / f'{config}{seed}'),
            options, epochs=10)
        for config, seed in (('x.py', 0), ('x.py', 1), ('x.py', 2),
                             ('y.py', 0)))
    record(finished, 100.0, 10)  # 10 s an epoch
    record(resumed, 12.0, 4)  # 3 s an epoch, in its own sittings
    runs = [finished, new, resumed, other]
    # from scratch: 2 epochs to the first checkpoint, at the config's pace
    # (the median of its other runs' 10 and 3 s)
    assert first_checkpoint_s(new, runs, resume=False) == pytest.approx(13)
    # resumed at epoch 4: 2 more epochs at its own pace; from scratch, 2
    assert first_checkpoint_s(resumed, runs, resume=True) == pytest.approx(6)
    assert first_checkpoint_s(resumed, runs, resume=False) == pytest.approx(6)
    assert first_checkpoint_s(other, runs, resume=False) is None

    launcher = Launcher(None, 'test', 'cpu', 'train.py',
                        stop_by=time.time() + 10)
    assert not launcher.starts_in_time(13.0)
    assert launcher.starts_in_time(6.0) and launcher.starts_in_time(None)
    assert Launcher(None, 'test', 'cpu', 'train.py').starts_in_time(1e9)
    assert not Launcher(None, 'test', 'cpu', 'train.py',
                        stop_by=time.time() - 1).starts_in_time(None)

    script = tmp_path / 'train.py'
    script.write_text(FAKE_TRAINING)
    args = SimpleNamespace(jobs=1, threads=None, train_script=str(script),
                           stop_by=time.time() + 10, map_key='coco/bbox_mAP',
                           ap50_key='coco/bbox_mAP_50')
    # the new run of x.py would need 13 s (14.3 with the margin): not started,
    # nothing written; x.py seed 2 (6 s from scratch: it has records but no
    # checkpoint) and y.py (no record) train
    assert train_all([finished, new, resumed, other], args, 'test',
                     'cpu') == (True, 1)
    out = capsys.readouterr().out
    assert 'not started x seed 1: its next checkpoint would come about 0.2 ' \
        'min after its start' in out
    assert not os.path.exists(new.run_dir)
    assert json.loads((tmp_path / other.run_dir / 'done.json').read_text()
                      )['returncode'] == 0


def test_training_threads_default(monkeypatch):
    """One thread a run on CPU; with CUDA the cores shared among the runs
    at once (16 cores, 6 runs: 2 each), never fewer than one."""
    import torch
    from mmdet_netaug.comparison.running import default_threads
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert default_threads(2) == 1
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(os, 'cpu_count', lambda: 16)
    assert [default_threads(j) for j in (1, 6, 8, 32)] == [16, 2, 2, 1]


def test_a_restarted_run_replaces_the_abandoned_start_before_validating(
        tool, tmp_path):
    """A run started again (a 'restart': its checkpoint was lost) logs into
    a new folder; once it has trained, the abandoned start's validations
    from its first trained epoch on are no longer its curve, even before
    the new start validates."""
    run_dir = write_run(tmp_path, 'm', 0, {2: (0.1, 0.2), 4: (0.2, 0.3),
                                           6: (0.3, 0.4)}, 10, done=False)
    vis = run_dir / '20260102_000000' / 'vis_data'
    vis.mkdir(parents=True)
    vis.joinpath('scalars.json').write_text(''.join(
        json.dumps(dict(loss=1.0, loss_cls=0.5, epoch=e, iter=10 * e,
                        step=10 * e)) + '\n' for e in (1, 2, 3)))
    assert tool.read_val_metrics(str(run_dir)) == {}
    assert tool.read_train_loss(str(run_dir)) == {
        1: 0.5, 2: 0.5, 3: 0.5}
    with open(vis / 'scalars.json', 'a') as f:
        f.write(json.dumps({'coco/bbox_mAP': 0.7, 'step': 2}) + '\n')
    assert list(tool.read_val_metrics(str(run_dir))) == [2]


def test_a_lost_validation_is_reported(tool, tmp_path):
    """An epoch the training validates at but logged nothing for (a sitting
    stopped between its checkpoint and its validation) is named in the
    report, run by run."""
    curve = {2: (0.1, 0.2), 4: (0.2, 0.3), 8: (0.3, 0.4), 10: (0.3, 0.4)}
    for name in ('netaug_m', 'plain_m'):
        run_dir = write_run(tmp_path, name, 0, curve if name == 'plain_m'
                            else {**curve, 6: (0.2, 0.3)}, 10)
        recorded = json.loads((run_dir / 'run.json').read_text())
        recorded['options'] = ['train_cfg.val_interval=2']
        (run_dir / 'run.json').write_text(json.dumps(recorded))
    summary = tool.summarize([('configs/netaug_m.py', 'configs/plain_m.py')],
                             [0], str(tmp_path))
    runs = {role: summary['pairs'][0][role]['runs']['0']
            for role in ('netaug', 'plain')}
    assert runs['plain']['missing_validations'] == [6]
    assert runs['netaug']['missing_validations'] == []
    report = tool.format_report(summary)
    assert 'plain_m seed 0: no validation logged at epoch(s) 6' in report
    assert 'netaug_m seed 0: no validation' not in report
    assert tool.missing_validations([2, 4, 5], ['train_cfg.val_interval=2'],
                                    5) == []
    assert tool.missing_validations([4, 5], ['train_cfg.val_interval=2'],
                                    5) == [2]
    assert tool.missing_validations([5], [], 5) == []  # interval unknown
    # dynamic intervals (RTMDet's): every epoch from the milestone's epoch
    # less one on (mmengine picks the interval after epoch k by k + 1)
    dynamic = ['train_cfg.val_interval=2',
               'train_cfg.dynamic_intervals=[(10, 1)]']
    validates = tool.validation_rule(dynamic, 12)
    assert [e for e in range(1, 13) if validates(e)] == [
        2, 4, 6, 8, 9, 10, 11, 12]
    assert tool.missing_validations([2, 4, 6, 8, 10, 11], dynamic, 12) == [9]


def test_a_run_of_unknown_length_is_not_in_the_statistics(tool, tmp_path):
    """A run folder whose schedule length is recorded nowhere (no "epochs"
    in run.json, no --epochs) may have stopped anywhere: it is not counted
    as finished, and the report says what to give."""
    write_run(tmp_path, 'netaug_m', 0, {2: (0.3, 0.5), 4: (0.3, 0.5)}, 4)
    write_run(tmp_path, 'plain_m', 0, {2: (0.2, 0.4)}, None)
    pairs = [('configs/netaug_m.py', 'configs/plain_m.py')]
    summary = tool.summarize(pairs, [0], str(tmp_path))
    plain = summary['pairs'][0]['plain']['runs']['0']
    assert plain['status'] == 'unknown' and plain['AP50'] is None
    assert summary['pairs'][0]['difference']['AP50']['n'] == 0
    assert 'plain_m seed 0: its schedule length is not recorded' in \
        tool.format_report(summary)
    summary = tool.summarize(pairs, [0], str(tmp_path), expected_epochs=2)
    assert summary['pairs'][0]['plain']['runs']['0']['status'] == 'finished'


def test_training_time_counts_a_run_in_two_pairs_once(tool, tmp_path):
    for name in ('netaug_a', 'netaug_b', 'plain_m'):
        write_run(tmp_path, name, 0, {2: (0.3, 0.5)}, 2)  # 10 s each
    summary = tool.summarize([('configs/netaug_a.py', 'configs/plain_m.py'),
                              ('configs/netaug_b.py', 'configs/plain_m.py')],
                             [0], str(tmp_path))
    header = tool.report_header(summary, 'compare', 'cpu: test', 1.0)
    assert any('training time of all runs: 0:00:30' in line
               for line in header)


def test_a_restart_sets_the_abandoned_start_aside(tmp_path, capsys):
    """A run the sitting starts again ('restart') first moves its abandoned
    start's records into abandoned/<time>/, so that the new start's curve,
    sittings and training time are its own; nothing is deleted."""
    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.running import Launcher

    script = tmp_path / 'train.py'
    script.write_text('pass\n')
    run_dir = write_run(tmp_path, 'm', 0, {2: (0.1, 0.2)}, 4, done=False)
    (run_dir / 'done.json').write_text(json.dumps(dict(
        returncode=None, running=True, train_time_total_s=500.0)))
    (run_dir / 'last_checkpoint').write_text('/gone/epoch_2.pth')
    recorded = json.loads((run_dir / 'run.json').read_text())
    (run_dir / 'run.json').write_text(json.dumps(dict(
        recorded, options=[], sittings=[dict(invocation='first')])))
    run = Run('plain', 'configs/m.py', 0, str(run_dir), [], epochs=4)
    launcher = Launcher(None, 'second', 'cpu', str(script))
    done = launcher.train(run, resume=False, planned='restart')
    assert done['returncode'] == 0 and done['train_time_total_s'] < 100
    aside = os.listdir(run_dir / 'abandoned')
    assert len(aside) == 1
    assert sorted(os.listdir(run_dir / 'abandoned' / aside[0])) == [
        '20260101_000000', 'done.json', 'last_checkpoint', 'run.json']
    assert 'moved to' in capsys.readouterr().out
    sittings = json.loads((run_dir / 'run.json').read_text())['sittings']
    assert [s['invocation'] for s in sittings] == ['second']
    from mmdet_netaug.comparison.results import read_val_metrics
    assert read_val_metrics(str(run_dir)) == {}


def test_a_run_finished_by_another_sitting_meanwhile_is_left_alone(tmp_path):
    """The state a sitting planned is checked again under the run's lock:
    a run another sitting finished in between is not trained again."""
    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.running import Launcher

    script = tmp_path / 'train.py'
    script.write_text('raise SystemExit(3)\n')
    run_dir = write_run(tmp_path, 'm', 0, {2: (0.1, 0.2)}, 2)
    (run_dir / 'run.json').write_text(json.dumps(dict(
        config='configs/m.py', options=[], epochs=2)))
    before = sorted(os.listdir(run_dir))
    run = Run('plain', 'configs/m.py', 0, str(run_dir), [], epochs=2)
    done = Launcher(None, 'x', 'cpu', str(script)).train(
        run, resume=False, planned='new')
    assert done == dict(returncode=0, finished_elsewhere=True)
    assert sorted(set(os.listdir(run_dir)) - {'.lock'}) == before


def test_a_resume_after_a_lost_validation_validates_first(tmp_path):
    """Resuming from a checkpoint whose epoch the training validates at but
    logged nothing for, the sitting's command asks the training to
    validate it before training on (config field validate_at_resume)."""
    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.running import Launcher, lost_validation

    run_dir = write_run(tmp_path, 'm', 0, {2: (0.1, 0.2)}, 10, done=False)
    (run_dir / 'epoch_4.pth').write_text('')
    (run_dir / 'last_checkpoint').write_text(str(run_dir / 'epoch_4.pth'))
    run = Run('plain', 'configs/m.py', 0, str(run_dir),
              ['train_cfg.val_interval=2'], epochs=10)
    launcher = Launcher(None, 'x', 'cpu', 'train.py')
    assert lost_validation(run) == 4
    command = launcher.command(run, resume=True)
    assert command[-2:] == ['validate_at_resume=True', '--resume']
    assert 'validate_at_resume=True' not in launcher.command(run)
    # whether the loop validates at epoch 4 (val_interval, val_begin,
    # dynamic_intervals) is the training's hook to tell, not the tool's
    odd = Run('plain', 'configs/m.py', 0, str(run_dir),
              ['train_cfg.val_interval=3'], epochs=10)
    assert lost_validation(odd) == 4
    # validated: nothing lost
    with open(run_dir / '20260101_000000' / 'vis_data' / 'scalars.json',
              'a') as f:
        f.write(json.dumps({'coco/bbox_mAP': 0.2, 'step': 4}) + '\n')
    assert lost_validation(run) is None
    assert 'validate_at_resume=True' not in launcher.command(run, True)


def test_a_restart_says_why_once(tmp_path, capsys):
    """The state read again under the lock does not repeat why a run with
    a pointer to a missing checkpoint starts again."""
    from mmdet_netaug.comparison.planning import Run
    from mmdet_netaug.comparison.running import train_all

    script = tmp_path / 'train.py'
    script.write_text('pass\n')
    run_dir = write_run(tmp_path, 'm', 0, {2: (0.1, 0.2)}, 4, done=False)
    (run_dir / 'run.json').write_text(json.dumps(dict(
        config='configs/m.py', options=[], epochs=4)))
    (run_dir / 'last_checkpoint').write_text('/gone/epoch_2.pth')
    run = Run('plain', 'configs/m.py', 0, str(run_dir), [], epochs=4)
    args = argparse.Namespace(jobs=1, threads=1, train_script=str(script),
                              stop_by=None, map_key='m', ap50_key='a')
    train_all([run], args, 'test', 'cpu')
    assert capsys.readouterr().out.count('which is not there') == 1
