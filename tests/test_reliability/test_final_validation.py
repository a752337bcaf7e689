"""A training stopped during its final validation gets it when resumed.

mmengine's train loop validates only after training an epoch, so a run
resumed from its final checkpoint trains nothing and exits without its
final metrics; :class:`FinalValidationHook` (registered by
``CheckedRunner``) validates that checkpoint. Plain SSDLite on 2 real cards
images at 160x160, one epoch, validation on 2 images.
"""
import shutil

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from conftest import cards_runner_config
from mmdet_netaug.comparison.results import read_val_metrics
from mmdet_netaug.engine import CheckedRunner
from reliability_helpers import SIZE, single_thread  # noqa: F401

AP50 = 'coco/bbox_mAP_50'
SMALL_IMAGES = {
    'train_dataloader.dataset.dataset.pipeline.4.scale': (SIZE, SIZE),
    'val_dataloader.dataset.pipeline.1.scale': (SIZE, SIZE),
    'test_dataloader.dataset.pipeline.1.scale': (SIZE, SIZE),
}


class _Killed(Exception):
    pass


class _StopsInValidation(Hook):
    """What a kill during validation does to the run: it ends there."""

    def before_val_epoch(self, runner) -> None:
        raise _Killed('stopped during validation')


class _CountsValidations(Hook):

    def __init__(self):
        self.epochs = []

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.epochs.append(runner.epoch)


def _config(cards_coco, work_dir, resume=False, epochs=1):
    cfg = cards_runner_config('ssdlite_mbv2_w035_cards.py', cards_coco,
                              work_dir, train_images=2, test_images=2,
                              epochs=epochs, batch_size=2,
                              **{'train_cfg.val_interval': 1,
                                 'default_hooks.checkpoint.interval': 1,
                                 **SMALL_IMAGES})
    cfg.resume = resume
    # mmengine's visualizer is one instance per name in a process: each
    # runner here needs its own, or its scalars go to the first one's folder
    cfg.visualizer.name = f'visualizer_{work_dir}'
    return cfg


@pytest.fixture(scope='module')
def stopped_in_final_validation(cards_coco, tmp_path_factory):
    """A work dir holding a 1-epoch training killed while validating."""
    work_dir = tmp_path_factory.mktemp('stopped')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runner = CheckedRunner.from_cfg(_config(cards_coco, work_dir))
        runner.register_hook(_StopsInValidation())
        with pytest.raises(_Killed):
            runner.train()
    finally:
        torch.set_num_threads(threads)
    assert (work_dir / 'epoch_1.pth').is_file()
    assert read_val_metrics(str(work_dir)) == {}
    return work_dir


def _copy(src, dst):
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


@pytest.mark.usefixtures('single_thread')
def test_resumed_final_checkpoint_is_validated(stopped_in_final_validation,
                                               cards_coco, tmp_path):
    work_dir = _copy(stopped_in_final_validation, tmp_path / 'work')
    runner = CheckedRunner.from_cfg(_config(cards_coco, work_dir,
                                            resume=True))
    counter = _CountsValidations()
    runner.register_hook(counter)
    runner.train()
    assert counter.epochs == [1]
    metrics = read_val_metrics(str(work_dir))
    assert list(metrics) == [1] and AP50 in metrics[1]


@pytest.mark.usefixtures('single_thread')
def test_mmengine_runner_alone_skips_it(stopped_in_final_validation,
                                        cards_coco, tmp_path):
    """The failure the hook mends (if mmengine ever validates there itself,
    this test says the hook can go)."""
    work_dir = _copy(stopped_in_final_validation, tmp_path / 'work')
    runner = Runner.from_cfg(_config(cards_coco, work_dir, resume=True))
    runner.train()
    assert read_val_metrics(str(work_dir)) == {}


@pytest.mark.usefixtures('single_thread')
def test_resumed_run_with_epochs_left_validates_only_as_scheduled(
        stopped_in_final_validation, cards_coco, tmp_path):
    """The same checkpoint resumed into a 2-epoch schedule: epoch 2 is
    trained and validated, nothing more."""
    work_dir = _copy(stopped_in_final_validation, tmp_path / 'work')
    runner = CheckedRunner.from_cfg(_config(cards_coco, work_dir,
                                            resume=True, epochs=2))
    counter = _CountsValidations()
    runner.register_hook(counter)
    runner.train()
    assert counter.epochs == [2]


@pytest.mark.usefixtures('single_thread')
def test_mmengine_runner_with_the_hook_in_custom_hooks(
        stopped_in_final_validation, cards_coco, tmp_path):
    work_dir = _copy(stopped_in_final_validation, tmp_path / 'work')
    cfg = _config(cards_coco, work_dir, resume=True)
    cfg.custom_hooks = [dict(type='FinalValidationHook')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert list(read_val_metrics(str(work_dir))) == [1]


@pytest.mark.usefixtures('single_thread')
def test_no_validation_where_mmengine_would_not_validate(
        stopped_in_final_validation, cards_coco, tmp_path):
    """val_begin after the last epoch: the final epoch is not validated, so
    a resume at it validates nothing either."""
    work_dir = _copy(stopped_in_final_validation, tmp_path / 'work')
    cfg = _config(cards_coco, work_dir, resume=True)
    cfg.train_cfg.val_begin = 2
    runner = CheckedRunner.from_cfg(cfg)
    counter = _CountsValidations()
    runner.register_hook(counter)
    runner.train()
    assert counter.epochs == []


@pytest.mark.usefixtures('single_thread')
def test_validate_at_resume_mends_a_lost_validation(
        stopped_in_final_validation, cards_coco, tmp_path):
    """The same checkpoint resumed into a 2-epoch schedule with
    ``validate_at_resume=True`` (what the comparison tool adds when the
    resumed epoch's validation was lost): epoch 1 is validated before
    training on, then epoch 2 as scheduled, both logged."""
    work_dir = _copy(stopped_in_final_validation, tmp_path / 'work')
    cfg = _config(cards_coco, work_dir, resume=True, epochs=2)
    cfg.validate_at_resume = True
    runner = CheckedRunner.from_cfg(cfg)
    counter = _CountsValidations()
    runner.register_hook(counter)
    runner.train()
    assert counter.epochs == [1, 2]
    assert list(read_val_metrics(str(work_dir))) == [1, 2]


def test_validate_at_resume_must_be_a_bool(cards_coco, tmp_path):
    cfg = _config(cards_coco, tmp_path / 'work')
    for value in ('yes', 1):
        cfg.validate_at_resume = value
        with pytest.raises(ValueError, match='validate_at_resume'):
            CheckedRunner.from_cfg(cfg)


@pytest.mark.usefixtures('single_thread')
def test_training_over_checkpoints_without_resume_warns(
        stopped_in_final_validation, cards_coco, tmp_path):
    """A training started without --resume in a work dir that holds
    checkpoints overwrites them: the log says so (mmdet says nothing)."""
    work_dir = _copy(stopped_in_final_validation, tmp_path / 'work')
    runner = CheckedRunner.from_cfg(_config(cards_coco, work_dir))
    runner.train()
    logs = ''.join(p.read_text() for p in work_dir.glob('*/*.log'))
    assert 'holds checkpoints (the latest: ' in logs
    assert 'without --resume this run trains from the start' in logs
    fresh = tmp_path / 'fresh'
    CheckedRunner.from_cfg(_config(cards_coco, fresh)).train()
    logs = ''.join(p.read_text() for p in fresh.glob('*/*.log'))
    assert 'holds checkpoints' not in logs


@pytest.mark.usefixtures('single_thread')
def test_validate_at_resume_follows_dynamic_intervals(
        stopped_in_final_validation, cards_coco, tmp_path):
    """RTMDet's configs validate more often late in training
    (train_cfg.dynamic_intervals); mmengine sets the interval at each
    epoch's start, which a resumed loop has not reached: the hook reads the
    interval in force at the resumed epoch. Epoch 1 of a 2-epoch schedule
    validated every 2 epochs is validated at resume only when the dynamic
    intervals make it every epoch from epoch 1 on; mmengine picks the
    interval after epoch k by epoch k + 1, so a milestone at epoch 2 does
    so too (an uninterrupted run validates epoch 1 there)."""
    cases = (([(1, 1)], [1, 2]), ([(2, 1)], [1, 2]), ([(3, 1)], [2]),
             (None, [2]))
    for case, (dynamic, expected) in enumerate(cases):
        work_dir = _copy(stopped_in_final_validation,
                         tmp_path / f'work{case}')
        cfg = _config(cards_coco, work_dir, resume=True, epochs=2)
        cfg.train_cfg.val_interval = 2
        if dynamic:
            cfg.train_cfg.dynamic_intervals = dynamic
        cfg.validate_at_resume = True
        runner = CheckedRunner.from_cfg(cfg)
        counter = _CountsValidations()
        runner.register_hook(counter)
        runner.train()
        assert counter.epochs == expected, dynamic


@pytest.mark.usefixtures('single_thread')
def test_no_overwrite_warning_for_a_pointer_to_nothing(cards_coco, tmp_path):
    """Records copied without their checkpoints keep a last_checkpoint
    naming a missing file: nothing is overwritten, so no warning."""
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_9.pth'))
    CheckedRunner.from_cfg(_config(cards_coco, work_dir)).train()
    logs = ''.join(p.read_text() for p in work_dir.glob('*/*.log'))
    assert 'holds checkpoints' not in logs
