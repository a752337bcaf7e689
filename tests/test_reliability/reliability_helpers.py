"""Shared pieces of the reliability tests: a NetAug SSDLite cards config
shrunk to a few 160x160 images, and one intra-op thread per process.

One thread: on a 2-core machine shared with other processes, torch's
default of one OpenMP thread per core makes every parallel region wait for
a descheduled thread; a NetAug step at 160x160 then takes seconds instead
of a fraction of one.
"""
from pathlib import Path

import pytest
import torch

import netaug_test_hooks  # noqa: F401  (registers RecordTrainingHook)
from conftest import cards_runner_config

HERE = Path(__file__).resolve().parent
SIZE = 160  # SSDLite's anchors and strides still fit (6 levels, 10x10..1x1)


@pytest.fixture(autouse=False)
def single_thread():
    """Run the test with one intra-op thread (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def small_netaug_config(data_root,
                        work_dir,
                        train_images=4,
                        epochs=2,
                        val=False,
                        workers=1,
                        **overrides):
    """``netaug_ssdlite_mbv2_cards.py`` on ``train_images`` cards images at
    160x160, batch 2, one BN re-estimation batch, a checkpoint every
    epoch, validation on 2 images at the end only if ``val``."""
    options = {
        'train_dataloader.dataset.dataset.pipeline.4.scale': (SIZE, SIZE),
        'val_dataloader.dataset.pipeline.1.scale': (SIZE, SIZE),
        'test_dataloader.dataset.pipeline.1.scale': (SIZE, SIZE),
        'model.trace_input_size': (SIZE, SIZE),
        'train_dataloader.num_workers': workers,
        'custom_hooks.2.bn_calibration_batches': 1,
        'default_hooks.checkpoint.interval': 1,
        'train_cfg.val_interval': epochs if val else epochs + 100,
        'env_cfg.cudnn_benchmark': False,
    }
    options.update(overrides)
    return cards_runner_config('netaug_ssdlite_mbv2_cards.py',
                               data_root,
                               work_dir,
                               train_images=train_images,
                               test_images=2,
                               epochs=epochs,
                               batch_size=2,
                               **options)


def add_recorder(cfg, **kwargs):
    """Append a ``RecordTrainingHook`` (this folder's helper hook)."""
    cfg.custom_hooks.append(dict(type='RecordTrainingHook', **kwargs))
    return cfg


def recorder(runner):
    """The runner's ``RecordTrainingHook``."""
    return next(h for h in runner.hooks
                if type(h).__name__ == 'RecordTrainingHook')


def netaug_hook(runner):
    """The runner's ``NetAugHook``."""
    return next(h for h in runner.hooks if type(h).__name__ == 'NetAugHook')
