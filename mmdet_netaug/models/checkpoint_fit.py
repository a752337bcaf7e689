"""Whether a checkpoint fits the model it is loaded into: reading it with
errors that name the file, its state dict, and the check of its keys and
shapes (used by CheckedRunner, the export and the distillation teacher).

mmengine loads checkpoints with ``strict=False``, so a checkpoint of another
model loads nothing or half without a word; :func:`check_checkpoint_fits`
stops that with :class:`CheckpointMismatchError`, naming the file and what
does not match. A NetAug model is told from a plain one by its state dict
(keys ``detector.*``), as a NetAug checkpoint is.
"""
import pickle
import re
from typing import Dict, List, Optional, Tuple

from mmengine.runner.checkpoint import _load_checkpoint


def is_netaug_state_dict(state_dict: Dict) -> bool:
    """Whether a state dict is a NetAugDetector's (keys ``detector.*``)
    rather than a plain detector's."""
    return any(k.startswith('detector.') for k in state_dict)


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model it is loaded into."""


class CheckpointDownloadError(CheckpointMismatchError):
    """A checkpoint given by URL could not be downloaded (not a checkpoint
    that does not fit: its message says so)."""


def checkpoint_classes(checkpoint) -> Optional[Tuple[str, ...]]:
    """The class names a checkpoint records: mmengine's
    ``meta.dataset_meta.classes`` (mmdet 2.x: ``meta.CLASSES``), or None."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict):
        return None
    classes = (meta.get('dataset_meta') or {}).get('classes',
                                                   meta.get('CLASSES'))
    return None if classes is None else tuple(map(str, classes))


def check_checkpoint_classes(checkpoint, cfg, filename: str) -> None:
    """Refuse a checkpoint trained on other classes than the config's
    datasets name, or on the same ones in another order: a label is a
    position in the class list, so every detection would be named (and
    scored) as another class, silently. A checkpoint that records no class
    names is not checked.

    Raises:
        CheckpointMismatchError: Naming ``filename``, both class lists and
            the config field.
    """
    from ..utils.data_check import dataset_class_lists
    recorded = checkpoint_classes(checkpoint)
    if recorded is None:
        return
    for field, classes in dataset_class_lists(cfg):
        if classes != recorded:
            raise CheckpointMismatchError(
                f'{filename} was trained on the classes {list(recorded)} '
                f'(its meta.dataset_meta.classes), but {field} is '
                f'{list(classes)}: a label is a position in the list, so '
                'every detection would be named as another class. Use a '
                'checkpoint trained on these classes in this order; to '
                'fine-tune from it on these classes, set '
                "checkpoint_check='partial' in the config")


def _examples(keys: List[str], limit: int = 3) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys)} in all)' if len(keys) > limit
                    else '')


def read_checkpoint(filename: str, map_location='cpu'):
    """mmengine's ``_load_checkpoint`` (safe loading) whose failures name the
    file: a missing file, or one that is truncated, empty or not a torch
    checkpoint, raises :class:`CheckpointMismatchError`."""
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
    except OSError as error:
        if '://' in str(filename):  # a download (URLError is an OSError)
            raise CheckpointDownloadError(
                f'{filename} could not be downloaded ({type(error).__name__}:'
                f' {error}); on a machine without network access, download '
                'it elsewhere and give its local path') from error
        raise CheckpointMismatchError(
            f'{filename} cannot be read as a checkpoint: '
            f'{type(error).__name__}: {error}') from error
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


def _expected_state(model, state_dict: Dict) -> Dict:
    """The state a checkpoint is checked against: the model's, or for a
    plain detector's checkpoint given to a NetAug model, its tiny
    model's."""
    expected = model.state_dict()
    if is_netaug_state_dict(expected) and not is_netaug_state_dict(
            state_dict):
        return model.export_plain().state_dict()
    return expected


def other_shapes(model, state_dict: Dict) -> List[str]:
    """The keys of ``state_dict`` whose tensors have another shape than the
    model's (for a NetAug model and a plain checkpoint, than its tiny
    model's). With ``checkpoint_check='partial'`` they are left out of the
    load: a NetAug layer would otherwise copy a smaller tensor into its
    leading channels (meant for the tiny model's own weights), e.g. a
    3-class model's class logits into a 6-class model's first channels,
    anchor by anchor the wrong ones."""
    expected = _expected_state(model, state_dict)
    return [k for k in expected if k in state_dict
            and hasattr(state_dict[k], 'shape')
            and tuple(state_dict[k].shape) != tuple(expected[k].shape)]


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
    netaug_model = is_netaug_state_dict(model.state_dict())
    netaug_ckpt = is_netaug_state_dict(state_dict)
    if netaug_ckpt and not netaug_model:
        raise CheckpointMismatchError(
            f'{filename} is a NetAug checkpoint (keys detector.*) and this '
            'config builds a plain detector. Export the tiny model first: '
            'python tools/export.py NETAUG_CONFIG CHECKPOINT OUT_DIR, then '
            'load OUT_DIR/<config>_tiny.pth (or use the NetAug config)')
    kind = 'same'
    if netaug_model and not netaug_ckpt:
        if resume:
            raise CheckpointMismatchError(
                f'{filename} is a plain detector\'s checkpoint: it cannot '
                'resume a NetAug run (no supernet weights, another optimiser '
                'state). To start NetAug from it, load it instead: '
                f'--cfg-options load_from={filename} (without --resume)')
        kind = 'plain'
    expected = _expected_state(model, state_dict)
    # BatchNorm's counter is optional (older or converted checkpoints)
    missing = [k for k in expected if k not in state_dict
               and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [
        f'{k} {list(state_dict[k].shape)} (model: {list(expected[k].shape)})'
        for k in other_shapes(model, state_dict)]
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
            matching = sum(k in state_dict for k in expected) - len(shapes)
            print_log(message + f'; loading the {matching} of the model\'s '
                      f'{len(expected)} tensors that match only, the others '
                      'keep their initial values '
                      '(checkpoint_check=\'partial\')', logger='current',
                      level=30)
            return kind
        raise CheckpointMismatchError(
            message + '. Use a checkpoint trained with this config (or its '
            "plain baseline); to initialise only the matching part (e.g. "
            'fine-tuning a model trained with other classes), set '
            "checkpoint_check='partial' in the config")
    return kind
