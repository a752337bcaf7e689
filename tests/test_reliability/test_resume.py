"""Exact resume: 2 epochs in one run == 1 epoch, interrupted, + 1 resumed.

NetAug SSDLite on 4 real cards images (2 iterations per epoch), with one
dataloader worker (mmengine seeds workers from the run's seed, so the data
augmentation does not depend on the main process's generators, which
mmengine does not restore), channel sorting at every epoch start, BN
re-estimation into every checkpoint, and width augmentation stopping at
iteration 3 of 4 (``width_aug_stop=0.75``): after the resume point.
"""
import pickle

import pytest
import torch
from mmengine.runner import Runner

from reliability_helpers import (add_recorder, netaug_hook, recorder,
                                 small_netaug_config)

OPTIONS = {'custom_hooks.2.width_aug_stop': 0.75}


@pytest.fixture(scope='module')
def runs(cards_coco, tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        full_dir = tmp_path_factory.mktemp('full')
        cfg = add_recorder(small_netaug_config(cards_coco, full_dir,
                                               **OPTIONS))
        full = Runner.from_cfg(cfg)
        full.train()

        part_dir = tmp_path_factory.mktemp('interrupted')
        cfg = add_recorder(small_netaug_config(cards_coco, part_dir,
                                               **OPTIONS),
                           stop_after_epoch=1)
        first = Runner.from_cfg(cfg)
        first.train()

        # The resumed run is told another sampler seed: the checkpoint's
        # must win, or the sub-network sequence would change.
        cfg = add_recorder(
            small_netaug_config(cards_coco,
                                part_dir,
                                resume=True,
                                **dict(OPTIONS, **{'custom_hooks.2.seed': 7})))
        loads = []
        real_load = torch.load

        def spy(*args, **kwargs):
            loads.append((str(args[0]), kwargs.get('weights_only')))
            return real_load(*args, **kwargs)

        torch.load = spy
        try:
            second = Runner.from_cfg(cfg)
            second.train()
        finally:
            torch.load = real_load
    finally:
        torch.set_num_threads(threads)
    return dict(full=full,
                first=first,
                second=second,
                loads=loads,
                full_dir=full_dir,
                part_dir=part_dir)


def _iterations(runner):
    return recorder(runner).iterations


def test_interrupted_run_stopped_after_its_first_epoch(runs):
    first = runs['first']
    assert [r['iter'] for r in _iterations(first)] == [0, 1]
    assert first.iter == 2 and first.max_iters == runs['full'].max_iters == 4
    assert (runs['part_dir'] / 'epoch_1.pth').is_file()


def test_resume_continues_at_the_next_iteration_with_the_saved_seed(runs):
    second = runs['second']
    assert [r['iter'] for r in _iterations(second)] == [2, 3]
    assert netaug_hook(second).seed == netaug_hook(runs['full']).seed == 0
    checkpoint = torch.load(runs['part_dir'] / 'epoch_1.pth',
                            weights_only=False)
    assert checkpoint['netaug'] == dict(seed=0)
    assert checkpoint['meta']['iter'] == 2


def test_resume_loads_the_checkpoint_with_safe_loading(runs):
    resumed = [w for path, w in runs['loads'] if path.endswith('epoch_1.pth')]
    assert resumed == [True]


def test_same_subnetworks_schedule_and_losses_at_every_iteration(runs):
    full = _iterations(runs['full'])
    pieces = _iterations(runs['first']) + _iterations(runs['second'])
    assert [r['iter'] for r in pieces] == [r['iter'] for r in full]
    for a, b in zip(full, pieces):
        assert a['widths'] == b['widths'], a['iter']
        assert a['width_augmented'] == b['width_augmented'], a['iter']
        assert a['lr'] == pytest.approx(b['lr'], rel=1e-12), a['iter']
        assert a['losses'].keys() == b['losses'].keys()
        for key in a['losses']:
            assert a['losses'][key] == pytest.approx(b['losses'][key],
                                                     rel=1e-5,
                                                     abs=1e-6), (a['iter'],
                                                                 key)
    # width augmentation stopped at iteration 3 in both
    assert [r['width_augmented'] for r in full] == [True, True, True, False]


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if a[key].is_floating_point():
            assert torch.allclose(a[key], b[key], atol=1e-5,
                                  rtol=0), (key, (a[key] - b[key]).abs().max())
        else:
            assert torch.equal(a[key], b[key]), key


def test_final_weights_are_equal(runs):
    _assert_same_state(dict(runs['full'].model.named_parameters()),
                       dict(runs['second'].model.named_parameters()))


def test_final_bn_statistics_are_equal(runs):
    """Re-estimated from the same batches (the re-estimation batches are a
    function of the seed and the iteration, not of the main process's
    generator, which a resumed run does not restore)."""
    _assert_same_state(dict(runs['full'].model.named_buffers()),
                       dict(runs['second'].model.named_buffers()))


def test_final_checkpoints_are_equal(runs):
    a = torch.load(runs['full_dir'] / 'epoch_2.pth', weights_only=False)
    b = torch.load(runs['part_dir'] / 'epoch_2.pth', weights_only=False)
    _assert_same_state(a['state_dict'], b['state_dict'])
    assert a['netaug'] == b['netaug'] == dict(seed=0)
    assert a['meta']['iter'] == b['meta']['iter'] == 4


class _RunsACommand:
    """Unpickling this calls os.system (what a malicious checkpoint does)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}', )


def test_resume_refuses_a_checkpoint_with_arbitrary_objects(runs, tmp_path):
    """Through the Runner's own resume path (``Runner.resume``)."""
    marker = tmp_path / 'code_was_run'
    evil = tmp_path / 'epoch_9.pth'
    good = torch.load(runs['part_dir'] / 'epoch_1.pth', weights_only=False)
    good['meta']['payload'] = _RunsACommand(marker)
    torch.save(good, evil)
    with pytest.raises(pickle.UnpicklingError) as error:
        runs['second'].resume(str(evil))
    assert str(evil) in str(error.value)
    assert 'allow-list' in str(error.value)
    assert not marker.exists()


def test_bn_reestimation_is_a_function_of_seed_and_iteration(runs):
    """Re-estimating again at the same iteration gives the same statistics
    (the checkpoint's), whatever the model's statistics were before."""
    full = runs['full']
    hook = netaug_hook(full)
    saved = torch.load(runs['full_dir'] / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    bn = full.model.detector.backbone.backbone.conv1.bn
    key = 'detector.backbone.backbone.conv1.bn.running_mean'
    assert torch.equal(bn.running_mean, saved[key])
    bn.running_mean.add_(1.0)  # stale statistics
    hook.bn_stale = True
    hook.recalibrate(full)
    assert not hook.bn_stale
    assert torch.equal(bn.running_mean, saved[key])
