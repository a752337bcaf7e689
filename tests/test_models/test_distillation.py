"""Knowledge distillation: a frozen teacher, its losses, and NetAug + KD.

The teachers here are randomly initialised width-1.0 models saved as
checkpoints (what matters is that they are frozen, line up and run once per
step, not what they know)."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.hooks import Hook
from mmengine.runner import Runner

from conftest import (CARDS_CLASSES, REPO, cards_runner_config, fake_batch,
                      load_config)
from mmdet_netaug.engine import CheckedRunner
from mmdet_netaug.engine.hooks import TeacherClassesHook
from mmdet_netaug.models.distillation import (TeacherMismatchError,
                                              anchor_kd_divisor,
                                              check_heads_line_up,
                                              check_teacher_classes,
                                              head_kd_losses)

TEACHER = str(REPO / 'configs' / 'ssdlite_mbv2_w100_cards.py')
SIZE = 160


def _built(config, **overrides):
    cfg = load_config(config, **overrides)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def teacher_checkpoint(tmp_path_factory):
    """A checkpoint of ssdlite_mbv2_w100_cards.py (random weights)."""
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save({'state_dict': _built(TEACHER).state_dict()}, path)
    return str(path)


def _distill(checkpoint, **options):
    return dict(teacher_config=TEACHER, teacher_checkpoint=checkpoint,
                **options)


@pytest.mark.parametrize('config', ['ssdlite_mbv2_w035_cards.py',
                                    'yolov3_mbv2_w035_cards.py'])
def test_losses_are_zero_when_the_student_equals_the_teacher(config):
    model = _built(config)
    head = model.bbox_head
    images, _ = fake_batch(size=SIZE)
    outputs = head(model.extract_feat(images))
    same = head_kd_losses(head, outputs, outputs, conf_threshold=0.0,
                          temperature=2.0)
    assert set(same) >= {'kd_loss_cls', 'kd_loss_bbox'}
    for name, value in same.items():
        assert abs(float(value)) < 1e-5, name
    # another student: every loss is positive and trains the student only
    teacher = tuple([o.detach() + torch.randn_like(o) for o in level]
                    for level in outputs)
    losses = head_kd_losses(head, outputs, teacher, conf_threshold=0.0)
    for name, value in losses.items():
        assert float(value) > 0, name
    sum(losses.values()).backward()
    assert all(t.grad is None for level in teacher for t in level)
    assert head.parameters().__next__().grad is not None
    # the loss is a distance: the temperature changes it, the weight scales
    hotter = head_kd_losses(head, outputs, teacher, conf_threshold=0.0,
                            temperature=4.0)
    assert float(hotter['kd_loss_cls']) != float(losses['kd_loss_cls'])
    halved = head_kd_losses(head, outputs, teacher, conf_threshold=0.0,
                            cls_weight=0.5)
    assert float(halved['kd_loss_cls']) == pytest.approx(
        0.5 * float(losses['kd_loss_cls']), rel=1e-5)


def test_anchor_kd_divisor_splits_what_the_losses_are_divided_by():
    from mmdet_netaug.models.distillation import _flat, softmax_kl
    model = _built('ssdlite_mbv2_w035_cards.py')
    head = model.bbox_head
    outputs = head(model.extract_feat(fake_batch(size=SIZE)[0]))
    classes = head.cls_out_channels  # 6 cards classes and the background
    # equal logits: every anchor's object probability is 1 - 1/7
    flat = ([torch.zeros_like(o) for o in outputs[0]], outputs[1])
    even = anchor_kd_divisor(head, flat)
    anchors = sum(o.numel() for o in outputs[0]) // classes
    assert even['anchors'] == anchors
    assert even['divisor'] == pytest.approx(anchors * 6 / 7, rel=1e-5)
    assert even['confident_anchors'] == anchors
    assert even['background_anchors'] == 0 and even['background'] == 0
    # a sure background everywhere except one anchor sure of a class
    logits = [torch.zeros_like(o) for o in outputs[0]]
    for level in logits:
        level[:, classes - 1::classes] = 20.0
    logits[0][0, 0, 0, 0] = 40.0  # image 0, first anchor: class 0
    sure = anchor_kd_divisor(head, (logits, outputs[1]))
    assert sure['confident_anchors'] == 1
    assert sure['confident'] == pytest.approx(1.0, abs=1e-6)
    assert sure['background_anchors'] == anchors - 1
    assert sure['divisor'] == pytest.approx(
        sure['confident'] + sure['background'], rel=1e-6)
    # it is what kd_loss_cls is divided by
    teacher = ([torch.randn_like(o) for o in outputs[0]], outputs[1])
    divisor = anchor_kd_divisor(head, teacher)['divisor']
    kl = softmax_kl(_flat(outputs[0], classes), _flat(teacher[0], classes))
    loss = head_kd_losses(head, outputs, teacher)['kd_loss_cls']
    assert float(loss) == pytest.approx(float(kl.sum()) / divisor, rel=1e-4)
    yolo = _built('yolov3_mbv2_w035_cards.py')
    with pytest.raises(ValueError, match='YOLOv3'):
        anchor_kd_divisor(yolo.bbox_head, yolo.bbox_head(
            yolo.extract_feat(fake_batch(size=SIZE)[0])))


def test_outputs_of_other_shapes_are_refused():
    model = _built('ssdlite_mbv2_w035_cards.py')
    head = model.bbox_head
    outputs = head(model.extract_feat(fake_batch(size=SIZE)[0]))
    fewer = tuple(level[:-1] for level in outputs)
    with pytest.raises(TeacherMismatchError, match='feature levels'):
        head_kd_losses(head, outputs, fewer)
    other = (outputs[0][:1] + [o[:, :2] for o in outputs[0][1:]],
             outputs[1])
    with pytest.raises(TeacherMismatchError, match='level 1'):
        head_kd_losses(head, outputs, other)


@pytest.mark.parametrize('teacher, overrides, message', [
    ('yolov3_mbv2_w100_cards.py', {}, 'head type'),
    ('ssdlite_mbv2_w100_cards.py', {'model.bbox_head.num_classes': 5},
     'classes'),
    ('ssdlite_mbv2_w100_cards_224.py', {}, 'strides'),
    ('ssdlite_mbv2_w100_cards.py',
     {'model.bbox_head.anchor_generator.ratios': [[2]] * 6},
     'number of anchors'),
    ('ssdlite_mbv2_w100_cards.py',
     {'model.data_preprocessor.mean': [0, 0, 0]}, 'input normalisation'),
])
def test_a_teacher_that_does_not_line_up_is_refused(teacher, overrides,
                                                    message):
    student = _built('ssdlite_mbv2_w035_cards.py')
    check_heads_line_up(student, _built('ssdlite_mbv2_w100_cards.py'))
    with pytest.raises(TeacherMismatchError, match=message):
        check_heads_line_up(student, _built(teacher, **overrides))


@pytest.mark.parametrize('config', ['rtmdet_tiny_cards.py',
                                    'yolox_tiny_cards.py'])
def test_heads_without_anchor_boxes_are_refused(config):
    model = _built(config)
    with pytest.raises(TeacherMismatchError,
                       match=f'{type(model.bbox_head).__name__}'):
        check_heads_line_up(model, model)


def test_config_errors_name_the_field(teacher_checkpoint, tmp_path):
    cfg = load_config('kd_ssdlite_mbv2_cards.py')
    distill = cfg.model.distill
    cases = [
        (dict(distill, teacher_checkpoint=None), 'teacher_checkpoint'),
        (dict(distill, teacher_config=str(tmp_path / 'missing.py')),
         'missing.py not found'),
        (dict(distill, temprature=2), 'temprature'),
        (dict(distill, teacher_checkpoint=str(tmp_path / 'nothing.pth')),
         'nothing.pth'),
        (dict(distill, teacher_checkpoint=teacher_checkpoint,
              teacher_config=str(REPO / 'configs' /
                                 'netaug_ssdlite_mbv2_cards.py')),
         'plain detector config'),
        (dict(distill, teacher_checkpoint=teacher_checkpoint,
              teacher_config=str(REPO / 'configs' /
                                 'yolov3_mbv2_w100_cards.py')),
         'does not fit'),  # the checkpoint is another model's
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            MODELS.build(dict(cfg.model, distill=options))


def _kd_runner_config(config, cards_coco, work_dir, checkpoint, **overrides):
    options = {
        'train_dataloader.dataset.dataset.pipeline.4.scale': (SIZE, SIZE),
        'val_dataloader.dataset.pipeline.1.scale': (SIZE, SIZE),
        'test_dataloader.dataset.pipeline.1.scale': (SIZE, SIZE),
        'default_hooks.checkpoint.interval': 1,
        'train_cfg.val_interval': 100,
    }
    if config.startswith('netaug'):
        options['model.trace_input_size'] = (SIZE, SIZE)
    options.update(overrides)
    cfg = cards_runner_config(config, cards_coco, work_dir, train_images=4,
                              test_images=2, batch_size=2, **options)
    cfg.model.distill.teacher_config = TEACHER
    cfg.model.distill.teacher_checkpoint = checkpoint
    for hook in cfg.custom_hooks:
        if hook['type'] == 'NetAugHook':
            hook['bn_calibration_batches'] = 1
    return cfg


def test_teacher_is_frozen_runs_once_per_step_and_is_never_saved(
        cards_coco, tmp_path, teacher_checkpoint):
    torch.set_num_threads(1)
    cfg = _kd_runner_config('kd_ssdlite_mbv2_cards.py', cards_coco, tmp_path,
                            teacher_checkpoint)
    runner = Runner.from_cfg(cfg)
    teacher = runner.model.distiller.teacher
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    runner.train()

    assert runner.model.distiller.teacher_calls == runner.iter == 4
    assert not teacher.training
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, before[key]), key  # BN statistics too
    assert all(not p.requires_grad and p.grad is None
               for p in teacher.parameters())
    optimised = {id(p) for group in runner.optim_wrapper.optimizer.param_groups
                 for p in group['params']}
    assert not optimised & {id(p) for p in teacher.parameters()}
    assert {'train/kd_loss_cls', 'train/kd_loss_bbox'} <= set(
        runner.message_hub.log_scalars)
    # the checkpoint is the plain student's: strict into the plain config
    state = torch.load(tmp_path / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    plain = MODELS.build(load_config('ssdlite_mbv2_w035_cards.py').model)
    plain.load_state_dict(state, strict=True)


@pytest.mark.parametrize('config,cases', [
    ('kd_ssdlite_mbv2_cards.py', ('right', 'reordered', 'other', 'none')),
    ('netaug_kd_ssdlite_mbv2_cards.py', ('reordered', ))])
def test_a_teacher_of_other_classes_is_refused_before_training(
        config, cases, cards_coco, tmp_path, teacher_checkpoint):
    """Heads of the same shape can still disagree on what class i is: the
    checkpoint's recorded class names must be the training dataset's, in
    its order (tools/train.py's runner checks before the first step)."""
    state = torch.load(teacher_checkpoint, weights_only=False)
    right = list(CARDS_CLASSES)
    taught = {'right': right, 'reordered': right[::-1],
              'other': right[:-1] + ['joker'], 'none': None}
    for name in cases:
        path = tmp_path / f'{name}.pth'
        meta = {} if taught[name] is None else dict(
            meta=dict(dataset_meta=dict(classes=tuple(taught[name]))))
        torch.save(dict(state, **meta), path)
        cfg = _kd_runner_config(config, cards_coco, tmp_path / name,
                                str(path))
        runner = CheckedRunner.from_cfg(cfg)
        hooks = [h for h in runner.hooks
                 if isinstance(h, TeacherClassesHook)]
        assert len(hooks) == 1
        distiller = runner.model.distiller
        if name in ('reordered', 'other'):
            expected = ('the same classes in another order'
                        if name == 'reordered' else 'other classes')
            with pytest.raises(TeacherMismatchError, match=expected) as error:
                runner.train()
            assert str(path) in str(error.value)
            assert str(taught[name]) in str(error.value)
            assert runner.iter == 0 and distiller.teacher_calls == 0
            assert not list((tmp_path / name).glob('*.pth'))
        else:
            hooks[0].before_train(runner)  # passes (or only warns)
            warning = check_teacher_classes(distiller, CARDS_CLASSES)
            assert (warning is None) == (name == 'right')
            if warning:
                assert str(path) in warning and 'no class names' in warning
    if config.startswith('kd'):  # a model without a teacher: no check
        plain = cards_runner_config('ssdlite_mbv2_w035_cards.py', cards_coco,
                                    tmp_path / 'plain', train_images=4,
                                    test_images=2, batch_size=2)
        assert not any(isinstance(h, TeacherClassesHook)
                       for h in CheckedRunner.from_cfg(plain).hooks)


def test_kd_arm_starts_from_the_plain_arm_weights(teacher_checkpoint,
                                                  tmp_path):
    """Paired comparisons: building the teacher draws no random numbers."""

    def initialised(config, **overrides):
        cfg = load_config(config, **overrides)
        cfg.work_dir = str(tmp_path / config)
        cfg.randomness = dict(seed=5)
        runner = Runner.from_cfg(cfg)
        runner._init_model_weights()
        return runner.model.state_dict(), torch.get_rng_state()

    kd, kd_rng = initialised('kd_ssdlite_mbv2_cards.py', **{
        'model.distill.teacher_config': TEACHER,
        'model.distill.teacher_checkpoint': teacher_checkpoint})
    plain, plain_rng = initialised('ssdlite_mbv2_w035_cards.py')
    assert kd.keys() == plain.keys()
    assert all(torch.equal(kd[k], plain[k]) for k in plain)
    assert torch.equal(kd_rng, plain_rng)


STOCK_LOAD = r'''
import sys, torch
from mmengine.config import Config
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
register_all_modules()
cfg = Config.fromfile(sys.argv[1])
assert 'distill' not in cfg.model and 'teacher' not in cfg.pretty_text
model = MODELS.build(cfg.model)
state = torch.load(sys.argv[2], map_location='cpu', weights_only=True)
model.load_state_dict(state['state_dict'], strict=True)
assert 'mmdet_netaug' not in sys.modules
print('STOCK_OK')
'''


class _StopAfterFirstEpoch(Hook):
    """Interrupts training after its first epoch (same schedule)."""

    def after_train_epoch(self, runner):
        runner.train_loop.stop_training = True


@pytest.fixture(scope='module')
def netaug_kd_runs(cards_coco, tmp_path_factory, teacher_checkpoint):
    """NetAug + KD (the augmented pass distilled too) for 2 epochs, and the
    same interrupted after epoch 1 and resumed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    # one worker: mmengine seeds it from the run's seed, so a resumed run
    # augments the data as the uninterrupted one (see test_resume.py)
    options = {'model.distill.distill_aug': True,
               'train_dataloader.num_workers': 1}
    try:
        full_dir = tmp_path_factory.mktemp('kd_full')
        full = Runner.from_cfg(_kd_runner_config(
            'netaug_kd_ssdlite_mbv2_cards.py', cards_coco, full_dir,
            teacher_checkpoint, **options))
        full.train()
        part_dir = tmp_path_factory.mktemp('kd_part')
        first = Runner.from_cfg(_kd_runner_config(
            'netaug_kd_ssdlite_mbv2_cards.py', cards_coco, part_dir,
            teacher_checkpoint, **options))
        first.register_hook(_StopAfterFirstEpoch())
        first.train()
        second = Runner.from_cfg(_kd_runner_config(
            'netaug_kd_ssdlite_mbv2_cards.py', cards_coco, part_dir,
            teacher_checkpoint, resume=True, **options))
        second.train()
    finally:
        torch.set_num_threads(threads)
    return dict(full=full, first=first, second=second, full_dir=full_dir)


def test_netaug_kd_distils_both_passes_with_one_teacher_run_per_step(
        netaug_kd_runs):
    full = netaug_kd_runs['full']
    assert full.model.distiller.teacher_calls == full.iter == 4
    logged = full.message_hub.log_scalars
    for key in ('kd_loss_cls', 'kd_loss_bbox', 'aug_kd_loss_cls',
                'aug_kd_loss_bbox'):
        assert f'train/{key}' in logged, key
    state = torch.load(netaug_kd_runs['full_dir'] / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    assert all(k.startswith('detector.') for k in state)


def test_netaug_kd_resumes_exactly(netaug_kd_runs):
    full = dict(netaug_kd_runs['full'].model.state_dict())
    resumed = dict(netaug_kd_runs['second'].model.state_dict())
    assert full.keys() == resumed.keys()
    for key, value in full.items():
        if value.is_floating_point():
            assert torch.allclose(value, resumed[key], atol=1e-5), key
        else:
            assert torch.equal(value, resumed[key]), key
    assert netaug_kd_runs['second'].model.distiller.teacher_calls == 2


def test_netaug_kd_exports_the_plain_tiny_model(netaug_kd_runs, tmp_path):
    from mmdet_netaug.apis import build_netaug_model, export_tiny
    full = netaug_kd_runs['full']
    checkpoint = str(netaug_kd_runs['full_dir'] / 'epoch_2.pth')
    cfg = full.cfg
    # the export needs neither the teacher's config nor its checkpoint
    cfg.model.distill.teacher_checkpoint = str(tmp_path / 'gone.pth')
    model = build_netaug_model(cfg, checkpoint)
    assert model.distiller is None
    result = export_tiny(cfg, model, str(tmp_path / 'export'),
                         input_size=(SIZE, SIZE))
    assert result['max_abs_diff'] == 0
    run = subprocess.run(
        [sys.executable, '-c', STOCK_LOAD, result['config'],
         result['checkpoint']],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert 'STOCK_OK' in run.stdout


def test_kd_trains_under_bfloat16_autocast(cards_coco, tmp_path,
                                          teacher_checkpoint):
    from conftest import load_tool
    from mmdet_netaug.engine import cpu_supports_bf16
    if not cpu_supports_bf16():
        pytest.skip('this CPU has no native bfloat16 support')
    torch.set_num_threads(1)
    cfg = _kd_runner_config('netaug_kd_ssdlite_mbv2_cards.py', cards_coco,
                            tmp_path, teacher_checkpoint,
                            **{'train_cfg.max_epochs': 1})
    load_tool('tools/train.py').enable_amp(cfg)  # what --amp does here
    runner = Runner.from_cfg(cfg)
    dtypes = set()
    runner.model.distiller.teacher.backbone.register_forward_hook(
        lambda module, args, output: dtypes.add(output[-1].dtype))
    runner.train()
    assert dtypes == {torch.bfloat16}
    logged = runner.message_hub.log_scalars
    assert torch.isfinite(torch.tensor(
        logged['train/kd_loss_cls'].current()))
    assert all(p.dtype == torch.float32
               for p in runner.model.distiller.teacher.parameters())


def _kd_configs():
    return sorted(p.name for p in (REPO / 'configs').glob('*kd_*.py'))


@pytest.mark.parametrize('name', _kd_configs())
def test_kd_config_adds_only_the_teacher_and_it_lines_up(name):
    """A KD config is its base config plus the ``distill`` entry (KD only:
    and the distilling detector type); its teacher's head lines up with the
    student's (built without checkpoints)."""
    import re

    from mmdet_netaug.models.distillation import teacher_model_config
    text = (REPO / 'configs' / name).read_text()
    base_name = re.search(r"^_base_ = '\./(.+\.py)'", text, re.M).group(1)
    cfg, base = load_config(name), load_config(base_name)
    model, base_model = cfg.model.to_dict(), base.model.to_dict()
    distill = model.pop('distill')
    if name.startswith('kd_'):
        assert model.pop('type') == 'DistilledSingleStageDetector'
        base_model.pop('type')
        student_cfg = base.model
    else:
        assert not distill.get('distill_aug')
        student_cfg = MODELS.build(base.model).plain_detector_config()
    assert model == base_model
    for key in ('train_dataloader', 'val_dataloader', 'train_cfg',
                'param_scheduler', 'optim_wrapper', 'custom_hooks'):
        assert cfg.get(key) == base.get(key), key
    teacher_cfg = distill['teacher_config']
    if '::' not in teacher_cfg:
        teacher_cfg = str(REPO / teacher_cfg)
        assert distill['teacher_checkpoint'].startswith(
            'work_dirs/' + osp.basename(teacher_cfg)[:-3] + '/')
    teacher = MODELS.build(teacher_model_config(teacher_cfg))
    check_heads_line_up(MODELS.build(student_cfg), teacher)
    assert sum(p.numel() for p in teacher.parameters()) > 2 * sum(
        p.numel() for p in MODELS.build(student_cfg).parameters())


def test_benchmark_builds_the_teacher_and_export_drops_it(teacher_checkpoint):
    """benchmark_netaug.py times training steps: a KD config's teacher runs
    in them (for either arm), while the export holds the tiny model alone."""
    from mmdet_netaug.apis.benchmark import build_model
    teacher = {'model.distill.teacher_config': TEACHER,
               'model.distill.teacher_checkpoint': teacher_checkpoint}
    netaug = build_model(load_config(
        'netaug_kd_ssdlite_mbv2_cards.py', **teacher,
        **{'model.trace_input_size': (SIZE, SIZE)}), 'netaug')
    plain = build_model(load_config('kd_ssdlite_mbv2_cards.py', **teacher),
                        'plain')
    assert netaug.distiller is not None and plain.distiller is not None
    exported = netaug.export_plain()
    assert getattr(exported, 'distiller', None) is None
    plain.load_state_dict(exported.state_dict(), strict=True)
    # a KD-only config is no NetAug config: export says so
    from mmdet_netaug.apis.export import build_netaug_model
    with pytest.raises(TypeError, match='export needs a NetAug config'):
        build_netaug_model(load_config('kd_ssdlite_mbv2_cards.py'))


def test_tools_test_evaluates_a_kd_config_without_its_teacher(
        cards_coco, tmp_path, monkeypatch):
    """The teacher is for training: tools/test.py on a KD config needs
    neither it nor its checkpoint (here: none exists)."""
    from conftest import load_tool
    from mmdet_netaug.models.distillation import model_config_without_teacher
    cfg = _kd_runner_config('kd_ssdlite_mbv2_cards.py', cards_coco,
                            tmp_path / 'work', str(tmp_path / 'absent.pth'))
    config = tmp_path / 'kd.py'
    cfg.dump(str(config))
    student = _built('ssdlite_mbv2_w035_cards.py')
    torch.save({'state_dict': student.state_dict()}, tmp_path / 'student.pth')
    monkeypatch.setattr(sys, 'argv', [
        'test.py', str(config), str(tmp_path / 'student.pth'),
        '--work-dir', str(tmp_path / 'work')])
    torch.set_num_threads(1)
    load_tool('tools/test.py').main()
    metrics = list((tmp_path / 'work').glob('*/*.json'))
    assert metrics and 'coco/bbox_mAP' in metrics[0].read_text()
    # NetAug + KD: the NetAug detector stays, without its teacher
    netaug = load_config('netaug_kd_ssdlite_mbv2_cards.py').model
    bare = model_config_without_teacher(netaug)
    assert bare['type'] == netaug['type'] and 'distill' not in bare
    assert 'distill' in netaug  # the config itself is left as it was


def test_kd_divisor_tool_reports_the_split_on_training_batches(
        cards_coco, tmp_path, teacher_checkpoint, monkeypatch, capsys):
    """tools/misc/kd_divisor.py builds the teacher alone and prints, per
    training batch, the divisor and its parts (which add up to at most the
    divisor); a config without a teacher is refused by name."""
    from conftest import load_tool
    cfg = _kd_runner_config('kd_ssdlite_mbv2_cards.py', cards_coco,
                            tmp_path / 'work', teacher_checkpoint)
    config = tmp_path / 'kd.py'
    cfg.dump(str(config))
    monkeypatch.setattr(sys, 'argv', [
        'kd_divisor.py', str(config), '--batches', '2', '--batch-size', '2'])
    load_tool('tools/misc/kd_divisor.py').main()
    lines = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith('batch ')]
    assert len(lines) == 2
    import re
    for line in lines:
        assert ' 2 images, ' in line
        divisor, confident, background = map(float, re.search(
            r'divisor ([\d.]+) = ([\d.]+) from .* \+ ([\d.]+) from', line
        ).groups())
        assert 0 < divisor and confident + background <= divisor + 0.1
    plain = tmp_path / 'plain.py'
    load_config('ssdlite_mbv2_w035_cards.py').dump(str(plain))
    monkeypatch.setattr(sys, 'argv', ['kd_divisor.py', str(plain)])
    with pytest.raises(SystemExit):
        load_tool('tools/misc/kd_divisor.py').main()
    assert 'has no model.distill entry' in capsys.readouterr().err
    # a teacher checkpoint that is not there: the file named, no traceback
    cfg.model.distill.teacher_checkpoint = str(tmp_path / 'absent.pth')
    cfg.dump(str(config))
    monkeypatch.setattr(sys, 'argv', ['kd_divisor.py', str(config)])
    with pytest.raises(SystemExit, match=r'^Error: .*absent\.pth'):
        load_tool('tools/misc/kd_divisor.py').main()


def test_kd_divisor_tool_refuses_a_summed_head_before_loading():
    """tools/misc/kd_divisor.py on a YOLOv3 KD config (whose KD losses are
    summed, not divided) stops with one line before it needs the teacher's
    checkpoint, not with a traceback after building it."""
    import subprocess
    import sys

    from conftest import REPO
    run = subprocess.run(
        [sys.executable, 'tools/misc/kd_divisor.py',
         'configs/kd_yolov3_mbv2_cards.py'], cwd=REPO, capture_output=True,
        text=True, timeout=300)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "Error: anchor_kd_divisor: YOLOv3's KD losses are summed over the "
        'batch, not divided')
