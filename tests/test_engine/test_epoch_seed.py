"""EpochSeedHook: each epoch's data augmentation is a function of the run's
seed and the epoch, on the real cards training pipeline (SSDLite's Expand,
MinIoURandomCrop, RandomFlip and PhotoMetricDistortion), and a run resumed
at an epoch boundary trains exactly as the uninterrupted one."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.dataset import worker_init_fn
from mmengine.runner import Runner

from mmdet_netaug.engine.hooks import EpochSeedHook, epoch_seed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] /
                       'test_reliability'))
from reliability_helpers import (add_recorder, recorder,  # noqa: E402
                                 small_netaug_config)


def _config(cards_coco, work_dir, hook=True, workers=1, **overrides):
    cfg = small_netaug_config(cards_coco, work_dir, workers=workers,
                              **overrides)
    if hook:
        cfg.custom_hooks.append(dict(type='EpochSeedHook'))
    return cfg


def _first_batch(runner, hook, epoch):
    """The first training batch of ``epoch``, in epoch 0's image order, so
    that only the augmentation can differ between epochs."""
    runner.train_loop._epoch = epoch
    loader = runner.train_dataloader
    loader.sampler.set_epoch(0)
    if hook is not None:
        hook.before_train_epoch(runner)
    return torch.stack(next(iter(loader))['inputs']).float()


@pytest.mark.parametrize('workers', [0, 1])
def test_each_epoch_has_its_own_augmentation_and_it_repeats(
        cards_coco, tmp_path, workers):
    runner = Runner.from_cfg(_config(cards_coco, tmp_path, workers=workers))
    hook = next(h for h in runner.hooks if isinstance(h, EpochSeedHook))
    hook.before_train(runner)
    first = _first_batch(runner, hook, 0)
    assert torch.equal(_first_batch(runner, hook, 0), first)
    assert not torch.equal(_first_batch(runner, hook, 1), first)
    assert torch.equal(_first_batch(runner, hook, 1),
                       _first_batch(runner, hook, 1))


def test_another_run_seed_augments_otherwise(cards_coco, tmp_path):
    """Two paired seeds of a comparison augment their images otherwise at
    the same epoch: the hook's seed is the run's, not a constant (the
    sampler's own seed is fixed here, so that both see the same images in
    the same order)."""
    batches = []
    for seed in (0, 1):
        runner = Runner.from_cfg(_config(
            cards_coco, tmp_path / str(seed), **{
                'randomness.seed': seed, 'train_dataloader.sampler.seed': 0}))
        hook = next(h for h in runner.hooks if isinstance(h, EpochSeedHook))
        hook.before_train(runner)
        batches.append(_first_batch(runner, hook, 0))
        assert runner.train_dataloader.sampler.seed == 0
    assert not torch.equal(*batches)


def test_without_it_new_workers_repeat_the_first_epoch(cards_coco, tmp_path):
    """The case it exists for: mmengine seeds new workers from the run's
    seed alone, so with persistent_workers=False every epoch augments the
    same images the same way."""
    runner = Runner.from_cfg(_config(cards_coco, tmp_path, hook=False))
    assert runner.train_dataloader.worker_init_fn.func is worker_init_fn
    assert torch.equal(_first_batch(runner, None, 0),
                       _first_batch(runner, None, 1))


def test_epoch_seed_depends_on_seed_and_epoch():
    seeds = {epoch_seed(s, e) for s in range(3) for e in range(50)}
    assert len(seeds) == 150
    assert all(0 <= s < 2**31 for s in seeds)
    assert epoch_seed(2**40 + 5, 3) == epoch_seed(5, 3)  # numpy's 32 bits


def test_persistent_workers_are_refused(cards_coco, tmp_path):
    runner = Runner.from_cfg(
        _config(cards_coco, tmp_path,
                **{'train_dataloader.persistent_workers': True}))
    with pytest.raises(ValueError,
                       match='train_dataloader.persistent_workers=False'):
        runner.train()


def test_resume_trains_as_the_uninterrupted_run(cards_coco, tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        full = Runner.from_cfg(add_recorder(_config(cards_coco,
                                                    tmp_path / 'full')))
        full.train()
        part = tmp_path / 'interrupted'
        Runner.from_cfg(add_recorder(_config(cards_coco, part),
                                     stop_after_epoch=1)).train()
        resumed = Runner.from_cfg(
            add_recorder(_config(cards_coco, part, resume=True)))
        resumed.train()
    finally:
        torch.set_num_threads(threads)
    done = recorder(full).iterations
    again = recorder(resumed).iterations
    assert [r['iter'] for r in done] == [0, 1, 2, 3]
    assert [r['iter'] for r in again] == [2, 3]
    for a, b in zip(done[2:], again):
        assert a['losses'] == pytest.approx(b['losses'], rel=1e-5,
                                            abs=1e-6), a['iter']
