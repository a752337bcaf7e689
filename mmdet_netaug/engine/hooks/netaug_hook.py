"""The runner hook that drives NetAug through training."""
import inspect
import math
import random
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.dist import broadcast_object_list, get_world_size
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop, IterBasedTrainLoop, Runner

from mmdet.registry import HOOKS
from ...models.netaug_detector import NetAugDetector
from ...models.supernet import permute_copy, permute_optimizer_state
from ..model_wrapper import NetAugDistributedDataParallel
from .bn_reestimation import ReestimateBNHook, unwrapped


def sample_widths(model, seed: int, iteration: int, augment_width: bool):
    """The augmented sub-network NetAug trains at ``iteration`` of a run
    with sampler seed ``seed``: a function of the two alone (the same on
    every rank, after a resume, and in the benchmark)."""
    rng = random.Random(f'netaug-{seed}-{iteration}')
    return model.supernet.sample(rng, augment_width=augment_width)


def _check_cudnn_benchmark(value) -> None:
    if value not in (None, True, False):
        raise ValueError('NetAugHook: field "cudnn_benchmark" must be None, '
                         f'True or False, got {value!r}')


def netaug_cudnn_benchmark(cfg: Config) -> bool:
    """cuDNN's benchmark mode that training a config runs with: its
    NetAugHook's ``cudnn_benchmark`` where it has one (a dict whose type
    names NetAugHook or a subclass, or a hook instance) and that is not
    None, else ``env_cfg.cudnn_benchmark`` (default False)."""
    for hook in cfg.get('custom_hooks') or []:
        hook_type = hook.get('type') if isinstance(hook, dict) else type(hook)
        if isinstance(hook_type, str):
            hook_type = HOOKS.get(hook_type)
        if not (isinstance(hook_type, type)
                and issubclass(hook_type, NetAugHook)):
            continue
        if isinstance(hook, dict):
            value = hook.get('cudnn_benchmark', inspect.signature(
                NetAugHook).parameters['cudnn_benchmark'].default)
            _check_cudnn_benchmark(value)
        else:
            value = hook.cudnn_benchmark
        if value is not None:
            return value
        break
    return bool((cfg.get('env_cfg') or {}).get('cudnn_benchmark', False))


@HOOKS.register_module()
class NetAugHook(ReestimateBNHook):
    """Samples the augmented sub-network of every step and runs NetAug's
    schedule; as a :class:`ReestimateBNHook`, it re-estimates the tiny
    model's BatchNorm statistics, which the wide passes change.

    * Every step, one augmented sub-network is drawn from a generator seeded
      with ``(seed, iteration)``: every rank draws the same network, a run is
      reproducible from its seed, and a resumed run continues the sequence.
    * Width augmentation (channels between blocks) stops once
      ``width_aug_stop`` of the training iterations are done; the hidden
      channels of blocks keep being augmented (as in the NetAug code).
    * Optionally, all augmentation stops at ``netaug_stop_epoch``.
    * At the start of each epoch while widths are augmented, hidden channels
      are sorted by L1 importance (the optimiser state follows); not before
      the first training step (``sort_at_start``), when the importance of
      the randomly initialised wide channels means nothing and the sort
      would replace the tiny model's starting weights (those its plain
      baseline starts from at the same seed, or a loaded ``load_from``).
    * cuDNN's benchmark mode is off while it trains (``cudnn_benchmark``),
      whatever ``env_cfg`` says: every sampled sub-network brings new
      convolution shapes, and the mode times all of cuDNN's algorithms for
      each new one (measured on an H200 with a stack of convolutions whose
      widths change every step: 15.6 s for the first step with it, 0.13 s
      a step, median of the first ten, without it; docs/benchmarks.md,
      "CUDA: the first run"). The setting before the run is restored
      after it.
    * Before validation, and into every checkpoint, the tiny model's
      BatchNorm statistics are re-estimated on ``bn_calibration_batches``
      training batches, drawn (with their data augmentation) from a
      generator seeded with ``(seed, iteration, rank)``, so that a resumed
      run re-estimates exactly what the uninterrupted run does.

    Args:
        width_aug_stop (float): Fraction of training (0..1) after which
            widths are no longer augmented. Default: 0.5.
        netaug_stop_epoch (int, optional): Epoch from which no augmented
            pass runs at all (epoch-based training loops only). Default:
            None (never).
        sort_channels (bool): Sort hidden channels by importance at epoch
            starts while widths are augmented (under an
            ``IterBasedTrainLoop``, every pass over the data: the dataset
            size over the batch size and the ranks). Default: True.
        sort_at_start (bool): Sort also at the start of training, before
            any step, as the NetAug authors' code does (and this package
            did before 2026-11-29: the committed NetAug runs). It moves
            randomly initialised wide channels into the tiny model, which
            then no longer starts from its plain baseline's weights (48 of
            SSDLite x0.35's 480 tiny tensors change). Default: False.
        bn_calibration_batches (int): Training batches for BatchNorm
            re-estimation. Default: 20.
        seed (int, optional): Seed of the sub-network sampler. Default: the
            runner's seed (rank 0's, broadcast).
        cudnn_benchmark (bool, optional): ``torch.backends.cudnn.benchmark``
            for the run. None keeps what ``env_cfg.cudnn_benchmark`` set.
            Default: False.
    """

    reestimation_name = 'NetAug'
    checkpoint_key = 'netaug'

    def __init__(self,
                 width_aug_stop: float = 0.5,
                 netaug_stop_epoch: Optional[int] = None,
                 sort_channels: bool = True,
                 sort_at_start: bool = False,
                 bn_calibration_batches: int = 20,
                 seed: Optional[int] = None,
                 cudnn_benchmark: Optional[bool] = False) -> None:
        _check_cudnn_benchmark(cudnn_benchmark)
        if not isinstance(width_aug_stop, (int, float)) or not (
                0 <= width_aug_stop <= 1):
            raise ValueError('NetAugHook: field "width_aug_stop" must be a '
                             'fraction of training between 0 and 1, got '
                             f'{width_aug_stop!r}')
        for name, value in (('sort_channels', sort_channels),
                            ('sort_at_start', sort_at_start)):
            if not isinstance(value, bool):  # 'no' would mean True
                raise ValueError(f'NetAugHook: field "{name}" must be True '
                                f'or False, got {value!r}')
        if netaug_stop_epoch is not None and (
                not isinstance(netaug_stop_epoch, int)
                or isinstance(netaug_stop_epoch, bool)
                or netaug_stop_epoch < 0):
            raise ValueError('NetAugHook: field "netaug_stop_epoch" must be '
                             f'None or an epoch >= 0, got '
                             f'{netaug_stop_epoch!r}')
        if not isinstance(bn_calibration_batches, int) or isinstance(
                bn_calibration_batches, bool) or bn_calibration_batches < 1:
            raise ValueError('NetAugHook: field "bn_calibration_batches" '
                             'must be an integer >= 1, got '
                             f'{bn_calibration_batches!r}')
        super().__init__(num_batches=bn_calibration_batches, seed=seed)
        self.width_aug_stop = float(width_aug_stop)
        self.netaug_stop_epoch = netaug_stop_epoch
        self.sort_channels = sort_channels
        self.sort_at_start = sort_at_start
        self.bn_calibration_batches = bn_calibration_batches
        self.cudnn_benchmark = cudnn_benchmark
        self._cudnn_benchmark_before = None
        self._widths = None
        self._by_epoch = True  # the runner's loop counts epochs (before_run)
        self._iters_per_epoch = 1  # (an IterBasedTrainLoop's; before_run)

    # -- helpers ----------------------------------------------------------
    @staticmethod
    def netaug_model(runner: Runner) -> NetAugDetector:
        """The NetAugDetector the runner trains (unwrapped)."""
        model = unwrapped(runner)
        if not isinstance(model, NetAugDetector):
            raise TypeError(
                'NetAugHook needs a NetAugDetector model (model=dict('
                f"type='NetAugDetector', ...)), got {type(model).__name__}. "
                'Remove the hook from custom_hooks or use a NetAug config')
        return model

    def width_augmented(self, iteration: int, max_iters: int) -> bool:
        """Whether widths between blocks are augmented at an iteration."""
        return iteration < self.width_aug_stop * max_iters

    def netaug_active(self, runner: Runner) -> bool:
        """Whether an augmented pass runs at all in this epoch."""
        return (self.netaug_stop_epoch is None
                or runner.epoch < self.netaug_stop_epoch)

    def sample_widths_at(self, model: NetAugDetector, iteration: int,
                         max_iters: int):
        """The augmented sub-network of an iteration: a function of the seed
        and the iteration alone (the same on every rank and after resume)."""
        return sample_widths(model, self.seed, iteration,
                             self.width_augmented(iteration, max_iters))

    # -- events -----------------------------------------------------------
    def before_run(self, runner: Runner) -> None:
        hooks = [h for h in runner.hooks if isinstance(h, NetAugHook)]
        if len(hooks) > 1:
            raise ValueError(
                f'custom_hooks holds {len(hooks)} NetAugHooks; each would '
                'sample and schedule the augmented pass, so keep exactly one '
                "(a config that inherits a NetAug config already has it: "
                "do not add dict(type='NetAugHook') again)")
        model = self.netaug_model(runner)
        # (the built loop when training; runner.train_loop would build one
        # in a test run)
        loop = getattr(runner, '_train_loop', None)
        self._by_epoch = not isinstance(loop, IterBasedTrainLoop)
        if not self._by_epoch and self.netaug_stop_epoch is not None:
            raise ValueError(
                'NetAugHook: field "netaug_stop_epoch" '
                f'({self.netaug_stop_epoch}) counts epochs, and this run\'s '
                f'{type(loop).__name__} counts iterations '
                '(its epoch stays 0, so the augmented pass would never '
                'stop); remove it (width_aug_stop is a fraction of the '
                'iterations) or train with an EpochBasedTrainLoop')
        if not self._by_epoch:
            # one pass over the data per rank; not len(train_dataloader),
            # which an InfiniteSampler gives as the whole dataset (every
            # rank) and some batch samplers cannot give at all
            loader = runner.train_dataloader
            batch = loader.batch_size or loader.batch_sampler.batch_size
            self._iters_per_epoch = max(1, math.ceil(
                len(loader.dataset) / (batch * get_world_size())))
        model.use_schedule(self)
        self._cudnn_benchmark_before = torch.backends.cudnn.benchmark
        if (self.cudnn_benchmark is not None
                and torch.backends.cudnn.benchmark != self.cudnn_benchmark):
            mode = 'on' if self.cudnn_benchmark else 'off'
            if torch.cuda.is_available():
                runner.logger.info(
                    f'NetAug: cuDNN benchmark mode {mode} for this run '
                    '(NetAugHook.cudnn_benchmark). Every sampled sub-network '
                    'has new convolution shapes, which benchmark mode would '
                    'time all algorithms for')
            torch.backends.cudnn.benchmark = self.cudnn_benchmark
        if self.seed is None:  # rank 0's, so that every rank samples alike
            seed = [runner.seed if runner.seed is not None else 0]
            broadcast_object_list(seed)
            self.seed = int(seed[0])
        super().before_run(runner)
        # A single-process Runner reverts every SyncBatchNorm to a plain
        # BatchNorm (DynamicSyncBatchNorm included): put the dynamic ones
        # back (without a process group they compute plain BatchNorm).
        restored = model.restore_dynamic_layers()
        if restored:
            runner.logger.info(
                f'NetAug: restored {len(restored)} dynamic layers that the '
                'runner had replaced (SyncBN reverted to BN outside '
                'distributed training)')
        wrapper = runner.model
        if (is_model_wrapper(wrapper) and model.separate_backward
                and not isinstance(wrapper, NetAugDistributedDataParallel)):
            runner.logger.warning(
                f'NetAug: the model is wrapped in {type(wrapper).__name__}, '
                'whose train_step back-propagates the tiny and the augmented '
                'loss together (correct, but both passes\' activations are '
                'held at once). Set model_wrapper_cfg=dict(type='
                "'NetAugDistributedDataParallel', ...) for two backward "
                'passes, as the NetAug configs do')

    def after_run(self, runner: Runner) -> None:
        # Give the process its setting back (a later Runner in it).
        if self._cudnn_benchmark_before is not None:
            torch.backends.cudnn.benchmark = self._cudnn_benchmark_before
            self._cudnn_benchmark_before = None
        super().after_run(runner)

    def before_train_epoch(self, runner: Runner) -> None:
        if self._by_epoch:
            self._sort_at_epoch_start(runner)

    def _sort_at_epoch_start(self, runner: Runner) -> None:
        if not (self.sort_channels and self.netaug_active(runner)
                and self.width_augmented(runner.iter, runner.max_iters)):
            return
        if runner.iter == 0 and not self.sort_at_start:
            return  # nothing learnt yet: keep the paired (or loaded) start
        model = self.netaug_model(runner)
        moved = model.supernet.sort_channels()
        wrappers = getattr(runner.optim_wrapper, 'values', None)
        for wrapper in (wrappers() if wrappers else [runner.optim_wrapper]):
            permute_optimizer_state(wrapper.optimizer, moved)
        # An averaged copy of the model (EMAHook) must follow the same
        # permutation, or it would average misaligned channels.
        for hook in runner.hooks:
            ema = getattr(getattr(hook, 'ema_model', None), 'module', None)
            if ema is not None:
                permute_copy(model, ema, moved)

    def before_train_iter(self, runner: Runner, batch_idx: int,
                          data_batch=None) -> None:
        # An IterBasedTrainLoop starts one epoch (at the start, or at the
        # resumed iteration): sort where an epoch-based run's epochs start,
        # the same iterations whether resumed or not.
        if (not self._by_epoch
                and runner.iter % self._iters_per_epoch == 0):
            self._sort_at_epoch_start(runner)
        model = self.netaug_model(runner)
        self._widths = (self.sample_widths_at(model, runner.iter,
                                              runner.max_iters)
                        if self.netaug_active(runner) else None)
        super().before_train_iter(runner, batch_idx, data_batch)

    def current_widths(self):
        """The augmented sub-network of the current training step (None:
        no augmented pass); the model asks for it
        (:meth:`NetAugDetector.scheduled_widths`)."""
        return self._widths

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        """A resumed run, or an evaluation, goes on with the checkpoint's
        sampler seed (the same sub-networks, the same BatchNorm
        re-estimation batches); a new training that starts from a NetAug
        checkpoint (``load_from``, fine-tuning) keeps its own."""
        # resuming: statistics stale, the checkpoint's seed (as any
        # ReestimateBNHook, which saved it under checkpoint_key)
        super().after_load_checkpoint(runner, checkpoint)
        saved = checkpoint.get(self.checkpoint_key)
        if saved is None:
            return
        training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
        if training and not getattr(runner, '_resume', False):
            if saved['seed'] != self.seed:
                runner.logger.info(
                    f'NetAug: this run samples with its own seed {self.seed},'
                    f' not the loaded checkpoint\'s {saved["seed"]} (a new '
                    'training; resuming would continue with the '
                    'checkpoint\'s)')
            return
        self.seed = saved['seed']

    @property
    def bn_stale(self) -> bool:
        """Whether training changed the BatchNorm statistics since they
        were last re-estimated."""
        return self.reestimation.stale

    @bn_stale.setter
    def bn_stale(self, value: bool) -> None:
        self.reestimation.stale = bool(value)

    def recalibrate(self, runner: Runner) -> None:
        """Re-estimate the tiny model's BatchNorm statistics now: the
        batches, and their random data augmentation, are a function of the
        sampler seed, the iteration and the rank."""
        self.reestimation.recalibrate(runner, self.seed)
