"""Re-estimating a detector's BatchNorm statistics on training batches,
before validation and into checkpoints.

:class:`BatchNormReestimation` is the component; :class:`ReestimateBNHook`
runs it as a hook, for any mmdet detector (e.g. a model trained at one
resolution and evaluated at another), as
``torch.optim.swa_utils.update_bn`` and mmpretrain's ``PreciseBNHook`` do.
NetAugHook is a ReestimateBNHook: wide passes change the statistics the tiny
model shares.

The batches, and the random data augmentation applied to them (in the main
process or in workers), are a function of the seed, the iteration and the
rank: a resumed run re-estimates exactly what the uninterrupted run does.
The batches come from the training loader's own dataset and collate
function, through a shuffling ``DefaultSampler``, its workers seeded as
the training loader's (mmengine's ``worker_init_fn``) with the estimate's
own seed.
"""
import random
from functools import partial
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import CheckpointHook, EMAHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.dataset import DefaultSampler
from mmengine.runner import BaseLoop, Runner
from torch.utils.data import DataLoader

from mmdet.registry import HOOKS
from ...models.bn_calibration import (preserved_rng_state,
                                      recalibrate_batchnorm)


def unwrapped(runner: Runner):
    """The runner's model without its DDP wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) \
        else runner.model


class BatchNormReestimation:
    """Re-estimates the BatchNorm statistics of a runner's model.

    Args:
        num_batches (int): Training batches per re-estimation.
        name (str): The owner, for log messages and errors.
    """

    def __init__(self, num_batches: int = 20, name: str = 'BatchNorm') -> None:
        if not isinstance(num_batches, int) or num_batches < 1:
            raise ValueError(f'{name}: the number of BatchNorm re-estimation '
                             f'batches must be an integer >= 1, got '
                             f'{num_batches!r}')
        self.num_batches = num_batches
        self.name = name
        self._stale = False
        self._loader = None
        self._checkpoint_hooks: List[CheckpointHook] = []
        self._ema_hook: Optional[Hook] = None
        self._ema_statistics: Optional[dict] = None

    @property
    def stale(self) -> bool:
        """Whether training changed the statistics since the last
        estimate. Setting it (a training step) also forgets the averaged
        weights' statistics kept for the next checkpoint."""
        return self._stale

    @stale.setter
    def stale(self, value: bool) -> None:
        self._stale = bool(value)
        if self._stale:
            self._ema_statistics = None

    def setup(self, runner: Runner, owner: Optional[Hook] = None) -> None:
        """Look up the runner's checkpoint hooks and whether an EMA hook
        keeps averaged weights (once, before the run). The EMA hook must
        act before ``owner`` (the hook running this re-estimation): it
        swaps the averaged weights in before validation and into the
        checkpoint, and the statistics are measured for those."""
        self._checkpoint_hooks = [
            h for h in runner.hooks if isinstance(h, CheckpointHook)
        ]
        # (an EMAHook has its ema_model only after its own before_run)
        self._ema_hook = next(
            (h for h in runner.hooks
             if isinstance(h, EMAHook) or hasattr(h, 'ema_model')), None)
        training = isinstance(getattr(runner, '_train_loop', None),
                              BaseLoop)  # (tools/test.py: nothing to refuse)
        if (training and owner is not None and self._ema_hook is not None
                and owner in runner.hooks and runner.hooks.index(
                    self._ema_hook) > runner.hooks.index(owner)):
            raise ValueError(
                f'{type(self._ema_hook).__name__} (priority '
                f'{self._ema_hook.priority}) runs after {self.name} '
                f'(priority {owner.priority}): the BatchNorm statistics '
                'would be measured for the raw weights, and validated and '
                'saved with the averaged ones. Give the EMA hook a priority '
                'at or above NORMAL (mmdet\'s configs use 49)')

    @property
    def averages_weights(self) -> bool:
        """Whether checkpoints hold an EMA hook's averaged weights."""
        return self._ema_hook is not None

    def checkpoint_due(self, runner: Runner, by_epoch: bool) -> bool:
        """Whether a ``CheckpointHook`` saves at the end of this epoch
        (``by_epoch``) or iteration, by its own rule (the same on every
        rank)."""
        for hook in self._checkpoint_hooks:
            if hook.by_epoch != by_epoch:
                continue
            if by_epoch:
                due = hook.every_n_epochs(
                    runner, hook.interval, hook.save_begin) or (
                        hook.save_last and hook.is_last_train_epoch(runner))
            else:
                due = hook.every_n_train_iters(
                    runner, hook.interval, hook.save_begin) or (
                        hook.save_last and hook.is_last_train_iter(runner))
            if due:
                return True
        return False

    def loader(self, runner: Runner) -> DataLoader:
        """Shuffled training batches from the training loader's own
        dataset and collate function, with a shuffling
        ``DefaultSampler`` (a rank's share under DDP); the training loader's
        iteration is never disturbed. (``Runner.build_dataloader`` would
        deep-copy the built dataset, which for COCO doubles its memory.)"""
        if self._loader is None:
            train = runner.train_dataloader
            # a batch sampler (e.g. mmdet's AspectRatioBatchSampler) leaves
            # the loader's own batch_size at None
            batch_size = train.batch_size or train.batch_sampler.batch_size
            self._loader = DataLoader(
                train.dataset,
                batch_size=batch_size,
                sampler=DefaultSampler(train.dataset, shuffle=True, seed=0),
                num_workers=train.num_workers,
                collate_fn=train.collate_fn,
                worker_init_fn=train.worker_init_fn,
                drop_last=True)
        return self._loader

    def recalibrate(self, runner: Runner, seed: int) -> None:
        """Re-estimate the statistics now, on batches chosen by ``seed``,
        the iteration and the rank (the process's generators are left as
        they were)."""
        draw = random.Random(f'netaug-bn-{seed}-{runner.iter}-'
                             f'{get_rank()}').getrandbits(63)
        loader = self.loader(runner)
        sampler = getattr(loader, 'sampler', None)
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(draw % 2**31)  # the order of this estimate
        init = runner.train_dataloader.worker_init_fn
        if (loader.num_workers > 0 and isinstance(init, partial)
                and 'seed' in init.keywords):
            # Workers augment with their own generators, which mmengine's
            # worker_init_fn seeds from its seed: this estimate's, not the
            # training loader's of the epoch the loader was built in
            # (EpochSeedHook changes it every epoch, so a resumed run would
            # re-estimate otherwise than the uninterrupted one). The
            # training loader's other settings (its function, rank,
            # warnings) stay.
            loader.worker_init_fn = partial(
                init.func, *init.args,
                **dict(init.keywords, seed=draw % 2**31))
        with preserved_rng_state():
            random.seed(draw)
            np.random.seed(draw % 2**32)
            torch.manual_seed(draw)  # augmentation in the main process
            used = recalibrate_batchnorm(unwrapped(runner), loader,
                                         self.num_batches)
        if used < self.num_batches:  # a short loader (drop_last, ranks)
            runner.logger.warning(
                f'{self.name}: re-estimated the BatchNorm statistics on '
                f'{used} training batches, fewer than the {self.num_batches} '
                'asked (bn_calibration_batches): this rank\'s share of the '
                'training set holds no more full batches')
        else:
            runner.logger.info(f'{self.name}: re-estimated the BatchNorm '
                               f'statistics on {used} training batches')
        self.stale = False

    def recalibrate_before_save(self, runner: Runner, seed: int) -> None:
        """On every rank, just before the ``CheckpointHook`` saves:
        ``Runner.save_checkpoint`` runs on rank 0 only, so the
        re-estimation, whose statistics are all-reduced over ranks, cannot
        wait for ``before_save_checkpoint``. With an EMA hook, the
        statistics of the averaged weights are measured (and kept for the
        checkpoint) instead, on every rank as well."""
        if not self.stale:
            return
        if not self.averages_weights:
            self.recalibrate(runner, seed)
            return
        self._ema_statistics = self._measure_ema(runner, seed)

    def _measure_ema(self, runner: Runner, seed: int) -> Optional[dict]:
        """The BatchNorm statistics of the EMA hook's averaged weights; the
        model gets its own weights back and stays stale."""
        if self._ema_hook is None:
            return None
        ema = self._ema_hook.ema_model
        model = unwrapped(runner)
        current = {k: v.detach().clone()
                   for k, v in model.state_dict().items()}
        model.load_state_dict(ema.module.state_dict())
        try:
            self.recalibrate(runner, seed)
            fresh = {k: v.detach().cpu().clone()
                     for k, v in model.state_dict().items() if _bn_key(k)}
        finally:
            model.load_state_dict(current)
            self.stale = True
        return fresh

    # -- the events of a hook that owns this component --------------------
    def after_train_iter(self, runner: Runner, seed: int) -> None:
        """Re-estimate if a checkpoint is saved after this iteration."""
        if self.checkpoint_due(runner, by_epoch=False):
            self.recalibrate_before_save(runner, seed)

    def after_train_epoch(self, runner: Runner, seed: int) -> None:
        """Re-estimate if a checkpoint is saved after this epoch."""
        if self.checkpoint_due(runner, by_epoch=True):
            self.recalibrate_before_save(runner, seed)

    def before_val_epoch(self, runner: Runner, seed: int) -> None:
        """Re-estimate if training changed the statistics. With an EMA
        hook (which swapped the averaged weights in before this), they are
        the averaged weights' statistics: kept for a checkpoint saved
        before the next training step (``save_best``), whose weights are
        the averaged ones while its buffers, unless the EMA hook averages
        buffers too, are the raw model's older ones."""
        if self.stale:
            self.recalibrate(runner, seed)
            if self.averages_weights:
                self._ema_statistics = {
                    k: v.detach().cpu().clone()
                    for k, v in unwrapped(runner).state_dict().items()
                    if _bn_key(k)}

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict,
                               seed: int) -> None:
        """Write fresh statistics into the checkpoint's state dict (taken
        before this hook ran)."""
        saved = checkpoint.get('state_dict')
        # the averaged weights' statistics measured since the last training
        # step (for this save, or at validation), if any
        fresh = self._ema_statistics
        if saved is None:
            return
        if fresh is None:
            if not self.stale:
                return
            if get_world_size() > 1:
                # rank 0 alone: the re-estimation's all-reduce would wait
                runner.logger.warning(
                    f'{self.name}: this checkpoint holds BatchNorm '
                    'statistics that were not re-estimated (a save outside '
                    'the CheckpointHook schedule in distributed training); '
                    'this run re-estimates them before its next validation, '
                    'but tools/test.py and tools/export.py would use these '
                    '(export with --bn-calibration N re-estimates them)')
                return
            if self.averages_weights:
                fresh = self._measure_ema(runner, seed)
            else:
                self.recalibrate(runner, seed)
                fresh = {k: v.detach().cpu()
                         for k, v in unwrapped(runner).state_dict().items()
                         if _bn_key(k)}
        if fresh is None:
            return
        for key in saved:
            if _bn_key(key) and key in fresh:
                saved[key] = fresh[key]


def _bn_key(key: str) -> bool:
    return key.endswith(('running_mean', 'running_var',
                         'num_batches_tracked'))


@HOOKS.register_module()
class ReestimateBNHook(Hook):
    """Re-estimates the model's BatchNorm statistics on
    ``num_batches`` training batches before every validation and into every
    checkpoint (see :class:`BatchNormReestimation`); for any mmdet detector.
    NetAug configs do not need it: :class:`NetAugHook` is one.

    Args:
        num_batches (int): Training batches per re-estimation. Default: 20.
        seed (int, optional): Seed of the batch choice. Default: the
            runner's seed.
    """

    #: After hooks of NORMAL priority: an EMA hook (mmengine's default
    #: NORMAL, mmdet's configs 49) must swap the averaged weights in before
    #: the statistics are measured for them; before CheckpointHook.
    priority = 'BELOW_NORMAL'
    #: How the re-estimation names itself in messages.
    reestimation_name = 'ReestimateBNHook'
    #: Where checkpoints keep the seed.
    checkpoint_key = 'bn_reestimation'

    def __init__(self, num_batches: int = 20,
                 seed: Optional[int] = None) -> None:
        #: The re-estimation of the model's BatchNorm statistics.
        self.reestimation = BatchNormReestimation(num_batches,
                                                  self.reestimation_name)
        self.seed = seed

    def before_run(self, runner: Runner) -> None:
        self.reestimation.setup(runner, owner=self)
        if self.seed is None:
            self.seed = runner.seed if runner.seed is not None else 0

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.reestimation.stale = True

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.reestimation.after_train_iter(runner, self.seed)

    def after_train_epoch(self, runner: Runner) -> None:
        self.reestimation.after_train_epoch(runner, self.seed)

    def before_val_epoch(self, runner: Runner) -> None:
        self.reestimation.before_val_epoch(runner, self.seed)

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        # the seed, for a resumed run: mmengine replaces the runner's seed
        # by the checkpoint's only after before_run took it
        checkpoint.setdefault(self.checkpoint_key, {})['seed'] = self.seed
        self.reestimation.before_save_checkpoint(runner, checkpoint,
                                                 self.seed)

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """A resumed run re-estimates on the batches the uninterrupted one
        would: with the checkpoint's seed."""
        if not getattr(runner, '_resume', False):
            return
        # Statistics from a checkpoint are not known to be this run's last
        # estimate (with an EMA hook the model gets the raw weights' older
        # buffers back): a run resumed at its end re-estimates before its
        # final validation, on the same batches as the uninterrupted run.
        self.reestimation.stale = True
        saved = checkpoint.get(self.checkpoint_key)
        if saved is not None:
            self.seed = saved['seed']
