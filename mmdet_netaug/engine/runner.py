"""mmengine's Runner, with checkpoints that must fit the model they load into.

mmengine loads ``load_from``, ``--resume`` and ``tools/test.py`` checkpoints
with ``strict=False``: a checkpoint of another model (a plain SSDLite given
to a NetAug config, a NetAug checkpoint given to the plain config, another
``num_classes``) loads nothing or half and the run goes on, ending with mAP
0.000 and exit code 0. :class:`CheckedRunner` checks the checkpoint's keys
and shapes against the model first and stops with
:class:`CheckpointMismatchError`, naming the file and what does not match.
A plain detector's checkpoint given to a NetAug model (``load_from``, or
``tools/test.py``) is accepted: it initialises the tiny model (see
:meth:`NetAugDetector.load_plain_state_dict`). Resuming needs a checkpoint of
the same model.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Union

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import BaseLoop, Runner
from mmengine.runner.checkpoint import (_load_checkpoint_to_model,
                                        find_latest_checkpoint)

from mmdet.registry import HOOKS

from ..models.checkpoint_fit import (CheckpointMismatchError,
                                     check_checkpoint_classes,
                                     check_checkpoint_fits,
                                     checkpoint_state_dict, other_shapes,
                                     read_checkpoint)
from .atomic_checkpoint import remove_leftover_temp_files
from .hooks.bn_reestimation import unwrapped
from .hooks.batched_targets import BatchedTargetsHook
from .hooks.final_validation import FinalValidationHook
from .hooks.memory_format import MemoryFormatHook, check_memory_format
from .hooks.teacher_classes import TeacherClassesHook

__all__ = ['CheckedRunner', 'CheckpointMismatchError',
           'KeepPreviousCheckpointHook', 'check_checkpoint_fits']


@HOOKS.register_module()
class KeepPreviousCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that removes the oldest checkpoint
    (``max_keep_ckpts``) only after the new one is completely written.

    mmengine 0.10.7 removes it *before* saving, so with ``max_keep_ckpts=1``
    a save that is killed (or fails on a full disk) leaves no checkpoint at
    all. Leftover temporary files of a killed atomic save
    (:func:`~mmdet_netaug.engine.atomic_write_bytes`: ``.NAME.*.tmp``) are
    removed at the next save. :class:`CheckedRunner` uses this hook in place
    of ``CheckpointHook``; configs can name it as
    ``default_hooks.checkpoint.type``.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        doomed = None
        keep = self.keep_ckpt_ids
        if (self.max_keep_ckpts > 0 and len(keep) == self.max_keep_ckpts
                and keep[-1] != step):
            # taken off the list now (so mmengine deletes nothing), deleted
            # once the new checkpoint is complete
            doomed = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(keep.popleft()))
        if is_main_process():
            remove_leftover_temp_files(str(self.out_dir), '*.pth')
        super()._save_checkpoint_with_step(runner, step, meta)
        if doomed is not None and is_main_process() and \
                doomed != self.last_ckpt:
            _remove_checkpoint(self.file_backend, doomed)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's, except that the previous best checkpoint is removed
        after the new one is saved, not before."""
        previous = [self.best_ckpt_path] if hasattr(
            self, 'best_ckpt_path') else []
        previous += list(getattr(self, 'best_ckpt_path_dict', {}).values())
        previous = [p for p in previous if p]
        # hide the old paths from mmengine, which would remove them first
        if hasattr(self, 'best_ckpt_path'):
            old_path, self.best_ckpt_path = self.best_ckpt_path, None
        old_dict = dict(getattr(self, 'best_ckpt_path_dict', {}))
        if hasattr(self, 'best_ckpt_path_dict'):
            self.best_ckpt_path_dict = {k: None for k in old_dict}
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            if hasattr(self, 'best_ckpt_path') and not self.best_ckpt_path:
                self.best_ckpt_path = old_path
            if hasattr(self, 'best_ckpt_path_dict'):
                for key, value in old_dict.items():
                    if not self.best_ckpt_path_dict.get(key):
                        self.best_ckpt_path_dict[key] = value
        current = {getattr(self, 'best_ckpt_path', None),
                   *getattr(self, 'best_ckpt_path_dict', {}).values()}
        if is_main_process():
            for path in previous:
                if path not in current:
                    _remove_checkpoint(self.file_backend, path)


def _remove_checkpoint(backend, path) -> None:
    if backend.isfile(path):
        backend.remove(path)
    elif backend.isdir(path):  # deepspeed saves folders
        backend.rmtree(path)


class CheckedRunner(Runner):
    """mmengine's :class:`~mmengine.runner.Runner` whose checkpoint loading
    (``load_from``, ``resume``, ``tools/test.py``) refuses checkpoints that
    do not fit the model (:func:`check_checkpoint_fits`), and whose
    auto-resume in a work dir without checkpoints says so and starts from
    the beginning. mmengine's ``CheckpointHook`` is registered as
    :class:`KeepPreviousCheckpointHook`. The optional config field
    ``memory_format`` ('channels_last' or 'contiguous') registers a
    :class:`MemoryFormatHook`, ``batched_targets=True`` a
    :class:`BatchedTargetsHook`, and a model with a distillation teacher a
    :class:`TeacherClassesHook` (the teacher's classes must be the training
    dataset's, in its order). Every run registers a
    :class:`FinalValidationHook`: a training resumed from its final
    checkpoint (stopped during its last validation) validates it; with the
    config field ``validate_at_resume=True``, so does a training resumed
    from any checkpoint the loop validates at."""

    _resuming = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # an optional config field: the model's memory layout for the run
        memory_format = self.cfg.get('memory_format')
        check_memory_format(memory_format)
        if memory_format is not None and not any(
                isinstance(h, MemoryFormatHook) for h in self.hooks):
            self.register_hook(
                dict(type=MemoryFormatHook, memory_format=memory_format))
        # an optional config field: anchor targets for the batch at once
        batched = self.cfg.get('batched_targets')
        if batched not in (None, True, False):
            raise ValueError('config field "batched_targets": expected True '
                             f'or False, got {batched!r}')
        if batched and not any(
                isinstance(h, BatchedTargetsHook) for h in self.hooks):
            self.register_hook(dict(type=BatchedTargetsHook))
        # a distillation teacher must know the training dataset's classes
        if getattr(unwrapped(self), 'distiller', None) is not None and not any(
                isinstance(h, TeacherClassesHook) for h in self.hooks):
            self.register_hook(dict(type=TeacherClassesHook))
        # a training resumed at its end still gets its final validation;
        # with validate_at_resume=True any resumed checkpoint the loop
        # validates at (the comparison tool: one whose validation was lost)
        at_resume = self.cfg.get('validate_at_resume', False)
        if not isinstance(at_resume, bool):
            raise ValueError('config field "validate_at_resume": expected '
                             f'True or False, got {at_resume!r}')
        found = [h for h in self.hooks if isinstance(h, FinalValidationHook)]
        if not found:
            self.register_hook(dict(type=FinalValidationHook,
                                    at_resume=at_resume))
        elif at_resume:
            for hook in found:
                hook.at_resume = True

    def register_hook(self, hook, priority=None) -> None:
        if isinstance(hook, dict) and hook.get('type') in (
                'CheckpointHook', CheckpointHook):
            hook = dict(hook, type=KeepPreviousCheckpointHook)
        return super().register_hook(hook, priority)

    def load_or_resume(self) -> None:
        if (not self._has_loaded and not self._resume
                and isinstance(self._train_loop, BaseLoop)
                and is_main_process()):  # training, from the start
            # (find_latest_checkpoint prints a note when there is no
            # pointer, and returns what the pointer names, there or not)
            latest = find_latest_checkpoint(self.work_dir) if osp.isfile(
                osp.join(self.work_dir, 'last_checkpoint')) else None
            if latest is not None and osp.isfile(latest):
                self.logger.warning(
                    f'{self.work_dir} holds checkpoints (the latest: '
                    f'{latest}); without --resume this run trains from the '
                    'start and overwrites them as it saves (those of later '
                    'epochs than it reaches stay beside its own): use '
                    '--resume to continue that run, or another --work-dir')
        if (not self._has_loaded and self._resume
                and self._load_from is None
                and find_latest_checkpoint(self.work_dir) is None):
            self.logger.info(
                f'--resume: no checkpoint in {self.work_dir} yet, training '
                'from the start')
            self._resume = False
        return super().load_or_resume()

    def resume(self, filename: str, *args, **kwargs) -> None:
        self._resuming = True
        try:
            return super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """mmengine's ``load_checkpoint`` after :func:`check_checkpoint_fits`
        (the same steps: read, ``after_load_checkpoint`` hooks, load)."""
        checkpoint = read_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = unwrapped(self)
        revised = checkpoint_state_dict(checkpoint, filename, revise_keys)
        mode = self.cfg.get('checkpoint_check', 'strict')
        if mode not in ('strict', 'partial'):
            raise CheckpointMismatchError(
                "config field checkpoint_check must be 'strict' or "
                f"'partial', got {mode!r}")
        if mode == 'strict' or self._resuming:
            check_checkpoint_classes(checkpoint, self.cfg, filename)
        kind = check_checkpoint_fits(model, revised, filename,
                                     resume=self._resuming,
                                     partial=mode == 'partial')
        if mode == 'partial' and not self._resuming:
            dropped = set(other_shapes(model, revised))
            if dropped:  # not sliced into the model's leading channels
                checkpoint = _without_keys(checkpoint, dropped, revise_keys)
        if kind == 'plain':
            self.logger.info(f'{filename} is a plain detector\'s checkpoint: '
                             'it initialises the tiny model of the NetAug '
                             'supernet (the leading slices)')
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint


def _without_keys(checkpoint, keys, revise_keys):
    """The checkpoint without the tensors whose revised keys are ``keys``
    (its state dict's ``_metadata`` kept)."""
    nested = isinstance(checkpoint, dict) and 'state_dict' in checkpoint
    state = checkpoint['state_dict'] if nested else checkpoint

    def revised(key):
        for pattern, replacement in revise_keys:
            key = re.sub(pattern, replacement, key)
        return key

    kept = OrderedDict((k, v) for k, v in state.items()
                       if revised(k) not in keys)
    kept._metadata = getattr(state, '_metadata', OrderedDict())
    return dict(checkpoint, state_dict=kept) if nested else kept

