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
import re
from typing import Callable, Dict, List, Union

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model,
                                        find_latest_checkpoint)

from mmdet.registry import HOOKS

from ..models.netaug_detector import NetAugDetector, is_netaug_state_dict
from .atomic_checkpoint import remove_leftover_temp_files


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model it is loaded into."""


def _examples(keys: List[str], limit: int = 3) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit
                    else '')


def read_checkpoint(filename: str, map_location='cpu'):
    """mmengine's ``_load_checkpoint`` (safe loading) whose failures name the
    file: a missing file, or one that is truncated, empty or not a torch
    checkpoint, raises :class:`CheckpointMismatchError`."""
    import pickle
    try:
        return _load_checkpoint(filename, map_location=map_location)
    except pickle.UnpicklingError:
        raise  # the safe loader's refusal, naming the file and the object
    except FileNotFoundError as error:
        raise CheckpointMismatchError(
            f'checkpoint not found: {filename}') from error
    except ValueError as error:  # the safe loader: not a torch checkpoint
        if str(filename) in str(error):
            raise CheckpointMismatchError(str(error)) from error
        raise CheckpointMismatchError(
            f'{filename} cannot be read as a checkpoint: {error}') from error
    except Exception as error:
        raise CheckpointMismatchError(
            f'{filename} cannot be read as a checkpoint (truncated, empty or '
            f'not saved by torch?): {type(error).__name__}: {error}'
        ) from error


def checkpoint_state_dict(checkpoint, filename: str,
                          revise_keys=((r'^module.', ''), )) -> Dict:
    """The model state of a loaded checkpoint (its ``state_dict`` entry, or
    the checkpoint itself), keys revised as mmengine revises them."""
    state_dict = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError(
            f'{filename} holds no state dict (a {type(state_dict)})')
    revised = dict(state_dict)
    for pattern, replacement in revise_keys:
        revised = {re.sub(pattern, replacement, k): v
                   for k, v in revised.items()}
    return revised


def check_checkpoint_fits(model, state_dict: Dict, filename: str,
                          resume: bool = False, partial: bool = False
                          ) -> str:
    """Check that ``state_dict`` (a checkpoint's, ``module.`` stripped) fits
    ``model``; return its kind, ``'same'`` or ``'plain'`` (a plain
    detector's checkpoint for a NetAug model's tiny slices).

    Raises:
        CheckpointMismatchError: A NetAug checkpoint for a plain model, a
            plain one to resume a NetAug run, or keys missing, unexpected
            or of other shapes; the message names ``filename``.
    """
    netaug_model = isinstance(model, NetAugDetector)
    netaug_ckpt = is_netaug_state_dict(state_dict)
    if netaug_ckpt and not netaug_model:
        raise CheckpointMismatchError(
            f'{filename} is a NetAug checkpoint (keys detector.*) and this '
            'config builds a plain detector. Export the tiny model first: '
            'python tools/export.py NETAUG_CONFIG CHECKPOINT OUT_DIR, then '
            'load OUT_DIR/<config>_tiny.pth (or use the NetAug config)')
    kind = 'same'
    expected = model.state_dict()
    if netaug_model and not netaug_ckpt:
        if resume:
            raise CheckpointMismatchError(
                f'{filename} is a plain detector\'s checkpoint: it cannot '
                'resume a NetAug run (no supernet weights, another optimiser '
                'state). To start NetAug from it, load it instead: '
                f'--cfg-options load_from={filename} (without --resume)')
        kind = 'plain'
        expected = model.export_plain().state_dict()
    # BatchNorm's counter is optional (older or converted checkpoints)
    missing = [k for k in expected if k not in state_dict
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [
        f'{k} {list(state_dict[k].shape)} (model: {list(expected[k].shape)})'
        for k in expected if k in state_dict
        and hasattr(state_dict[k], 'shape')
        and tuple(state_dict[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or shapes:
        what = 'the tiny model of this NetAug config' if kind == 'plain' \
            else 'the model of this config'
        parts = []
        if missing:
            parts.append(f'{len(missing)} of the model\'s {len(expected)} '
                         f'keys are missing ({_examples(missing)})')
        if unexpected:
            parts.append(f'{len(unexpected)} keys are not in the model '
                         f'({_examples(unexpected)})')
        if shapes:
            parts.append(f'{len(shapes)} tensors have other shapes '
                         f'({_examples(shapes)}); e.g. another num_classes '
                         'or width')
        message = (f'{filename} does not fit {what}: ' + '; '.join(parts))
        if partial and not resume:
            from mmengine.logging import print_log
            print_log(message + '; loading the matching tensors only '
                      '(checkpoint_check=\'partial\')', logger='current',
                      level=30)
            return kind
        raise CheckpointMismatchError(
            message + '. Use a checkpoint trained with this config (or its '
            "plain baseline); to initialise only the matching part (e.g. "
            'fine-tuning a model trained with other classes), set '
            "checkpoint_check='partial' in the config")
    return kind


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
    :class:`KeepPreviousCheckpointHook`."""

    _resuming = False

    def register_hook(self, hook, priority=None) -> None:
        if isinstance(hook, dict) and hook.get('type') in (
                'CheckpointHook', CheckpointHook):
            hook = dict(hook, type=KeepPreviousCheckpointHook)
        return super().register_hook(hook, priority)

    def load_or_resume(self) -> None:
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
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        revised = checkpoint_state_dict(checkpoint, filename, revise_keys)
        mode = self.cfg.get('checkpoint_check', 'strict')
        if mode not in ('strict', 'partial'):
            raise CheckpointMismatchError(
                "config field checkpoint_check must be 'strict' or "
                f"'partial', got {mode!r}")
        kind = check_checkpoint_fits(model, revised, filename,
                                     resume=self._resuming,
                                     partial=mode == 'partial')
        if kind == 'plain':
            self.logger.info(f'{filename} is a plain detector\'s checkpoint: '
                             'it initialises the tiny model of the NetAug '
                             'supernet (the leading slices)')
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
