"""Data augmentation seeded by (seed, epoch): exact resume, a new stream
every epoch."""
from functools import partial

import numpy as np
from mmengine.dataset import worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed

from mmdet.registry import HOOKS


def epoch_seed(seed: int, epoch: int) -> int:
    """A seed for one epoch's data augmentation, a function of the run's
    seed and the epoch only (31 bits: mmengine adds the worker's index)."""
    state = np.random.SeedSequence([seed % 2**32, epoch]).generate_state(1)
    return int(state[0]) >> 1


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Seed the training dataloader's augmentation from the run's seed and
    the epoch, at the start of every epoch.

    mmengine seeds each dataloader worker once, from the run's seed. With
    ``persistent_workers=True`` (mmdet's default) the workers' random
    streams then run on across epochs, and a run resumed from a checkpoint
    starts them again from the beginning: it augments its data otherwise
    than the run it continues, so a run in several sittings differs from
    the same run in one, and the two arms of a paired comparison, stopped
    at different epochs, stop seeing the same augmented images. With
    ``persistent_workers=False`` every epoch starts new workers from the
    same seeds, so every epoch draws the same random numbers again.

    This hook gives epoch ``e`` the workers' seed ``epoch_seed(seed, e)``
    (then mmengine's ``+ num_workers * rank + worker_id``), which needs new
    workers each epoch: ``train_dataloader.persistent_workers=False``
    (checked before training). With ``num_workers=0`` the augmentation runs
    in the main process, whose ``random``, ``numpy`` and ``torch``
    generators are seeded the same way (plus the rank). A run resumed at an
    epoch boundary then augments exactly as the uninterrupted run, and
    every epoch has its own stream. Epoch-based training only. The run's
    seed is mmengine's ``runner.seed`` (``randomness.seed``, or the one
    mmengine drew and logged).

    Config::

        train_dataloader = dict(persistent_workers=False)
        custom_hooks = [dict(type='EpochSeedHook')]
    """
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        if loader.num_workers > 0 and loader.persistent_workers:
            raise ValueError(
                'EpochSeedHook seeds new dataloader workers every epoch, '
                'but train_dataloader.persistent_workers is True (workers '
                'started once keep their first seeds): set '
                'train_dataloader.persistent_workers=False')

    def before_train_epoch(self, runner) -> None:
        loader = runner.train_dataloader
        seed = epoch_seed(runner.seed, runner.epoch)
        if loader.num_workers == 0:
            set_random_seed(seed + get_rank())
        else:
            loader.worker_init_fn = partial(worker_init_fn,
                                            num_workers=loader.num_workers,
                                            rank=get_rank(),
                                            seed=seed)
