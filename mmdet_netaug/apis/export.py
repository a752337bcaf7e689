"""Export of the tiny model as a plain mmdet detector, and its cost."""
import copy
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config

from mmdet.registry import MODELS
from ..models import NetAugDetector
from ..models.checkpoint_fit import (CheckpointMismatchError,
                                     check_checkpoint_classes,
                                     check_checkpoint_fits,
                                     checkpoint_state_dict, read_checkpoint)
from ..models.distillation import model_config_without_teacher
from ..utils.config import RUNNER_KEYS, load_config
from ..utils.data_check import leaf_datasets


class _RawForward(nn.Module):
    """Wraps a detector so that ``forward(img)`` is its raw head output
    (what complexity analysis and latency measurements need)."""

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, img):
        return self.detector._forward(img)


def model_complexity(detector: nn.Module,
                     input_size: Tuple[int, int] = (320, 320)) -> Dict:
    """Parameters and FLOPs of a detector's network (mmengine's analysis).

    Args:
        detector (nn.Module): A plain mmdet detector (not a supernet).
        input_size (tuple[int, int]): Image height and width.

    Returns:
        dict: ``params`` and ``flops`` (numbers), as mmengine counts them
        (one multiply-add is one FLOP).
    """
    was_training = detector.training
    detector.eval()
    try:
        info = get_model_complexity_info(
            _RawForward(detector),
            inputs=(torch.zeros(1, 3, *input_size), ),
            show_table=False,
            show_arch=False)
    finally:
        detector.train(was_training)
    return dict(params=info['params'], flops=info['flops'])


# The package's types that do what a stock type does (the same draws and
# results, a check of the data, a safer save, bfloat16 autocast on CPU):
# in an exported config they become that type, less their own fields.
STOCK_EQUIVALENTS = {
    'CheckedCocoDataset': ('CocoDataset', ('invalid_boxes', 'max_reported')),
    'FastMinIoURandomCrop': ('MinIoURandomCrop', ()),
    'KeepPreviousCheckpointHook': ('CheckpointHook', ()),
    'CPUAmpOptimWrapper': ('AmpOptimWrapper', ()),
}


def package_types() -> Dict[str, str]:
    """The types this package registers in mmdet's registries, by name:
    their registry's name."""
    from mmengine.registry import Registry

    import mmdet.registry
    found = {}
    for registry in vars(mmdet.registry).values():
        if isinstance(registry, Registry):
            for name, cls in registry.module_dict.items():
                if cls.__module__.split('.')[0] == 'mmdet_netaug':
                    found[name] = registry.name
    return found


def _type_name(value) -> Optional[str]:
    """A ``type`` value without a ``mmdet_netaug.`` scope."""
    if not isinstance(value, str):
        return None
    return value.split('.', 1)[1] if value.startswith('mmdet_netaug.') \
        else value


def _package_nodes(cfg, path: str, ours) -> List[Tuple[str, str]]:
    """(dotted path, type) of every node of a nested config whose type is
    one of ``ours``."""
    found = []
    if isinstance(cfg, dict):
        if _type_name(cfg.get('type')) in ours:
            found.append((path, cfg['type']))
        for key, value in cfg.items():
            found += _package_nodes(value, f'{path}.{key}', ours)
    elif isinstance(cfg, (list, tuple)):
        for i, value in enumerate(cfg):
            found += _package_nodes(value, f'{path}.{i}', ours)
    return found


def plain_config(cfg: Config, model: NetAugDetector) -> Config:
    """The training config rewritten for the exported plain detector: the
    model is the tiny detector, and nothing refers to this package, so that
    stock mmdet (its ``tools/test.py`` or ``tools/train.py``) runs it.

    - The package's types that do what a stock type does become that type
      (``STOCK_EQUIVALENTS``: ``CheckedCocoDataset`` -> ``CocoDataset``,
      ``FastMinIoURandomCrop`` -> ``MinIoURandomCrop``, ...).
    - Its training hooks (``NetAugHook``, ``EpochSeedHook``, ...) leave
      ``custom_hooks`` and ``default_hooks``; ``mmdet_netaug`` leaves
      ``custom_imports``; ``model_wrapper_cfg`` (NetAug's DDP wrapper) and
      the helper variables that name the package (``detector``, the
      ``netaug_*`` names of configs/_base_/netaug.py) are dropped.

    Raises:
        ExportError: A key mmengine's Runner reads still names a type of
            this package with no stock equivalent (the key and the type).
    """
    ours = package_types()
    plain = copy.deepcopy(cfg)
    plain.model = model.plain_detector_config()
    plain.load_from = None
    plain.resume = False
    imports = plain.get('custom_imports')
    if imports:
        kept = [name for name in imports.get('imports', [])
                if name.split('.')[0] != 'mmdet_netaug']
        if kept:
            plain.custom_imports = dict(imports, imports=kept)
        else:
            plain.pop('custom_imports')
    for key in list(plain.keys()):
        if key != 'model':
            _rename_types(plain[key], STOCK_EQUIVALENTS)
    dropped = set(ours) - set(STOCK_EQUIVALENTS)
    if plain.get('custom_hooks'):
        plain.custom_hooks = [h for h in plain.custom_hooks
                              if _type_name(h.get('type')) not in dropped]
    for name, hook in list((plain.get('default_hooks') or {}).items()):
        if isinstance(hook, dict) and _type_name(hook.get('type')) in dropped:
            plain.default_hooks.pop(name)
    for key in [k for k in plain.keys() if k != 'model']:
        if key == 'model_wrapper_cfg' or key.startswith('netaug_') or (
                key not in RUNNER_KEYS
                and _package_nodes(plain[key], key, ours)):
            plain.pop(key)
    left = _package_nodes(plain._cfg_dict.to_dict(), '', ours)
    if left:
        raise ExportError(
            'The exported config would still name types of this package, '
            'which stock mmdet does not have: ' + ', '.join(
                f'{path[1:]} ({kind})' for path, kind in left))
    return plain


def _rename_types(cfg, equivalents: Dict[str, Tuple[str, Sequence[str]]]
                  ) -> None:
    """Rename ``type`` values in a nested config in place (a type may carry
    the ``mmdet_netaug.`` scope): ``equivalents`` maps a type to its new
    name and the fields to remove from its nodes."""
    if isinstance(cfg, dict):
        name = _type_name(cfg.get('type'))
        if name in equivalents:
            cfg['type'], drop = equivalents[name]
            for field in drop:
                cfg.pop(field, None)
        for value in cfg.values():
            _rename_types(value, equivalents)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _rename_types(value, equivalents)


def build_netaug_model(cfg: Config, checkpoint: Optional[str] = None,
                       with_teacher: bool = False,
                       plain_checkpoint: bool = False) -> NetAugDetector:
    """Build the config's NetAugDetector, optionally loading a checkpoint
    strictly. Raises a clear error for a config without NetAug.

    The teacher of a NetAug + KD config is not needed to export (nor part
    of the checkpoint): it is built only ``with_teacher`` (to train or time
    training steps). A plain detector's checkpoint (which fits the tiny
    model's slices) is refused unless ``plain_checkpoint``: exported, it
    would be that checkpoint itself, under the NetAug config's name. A
    checkpoint that records other classes than the config's datasets, or
    another order, is refused (:func:`check_checkpoint_classes`)."""
    model_cfg = copy.deepcopy(cfg.model)
    if not with_teacher:
        model_cfg = model_config_without_teacher(model_cfg)
    model = MODELS.build(model_cfg)
    if not isinstance(model, NetAugDetector):
        raise TypeError(f'model.type is {cfg.model.get("type")!r}: export '
                        'needs a NetAug config (model=dict(type='
                        "'NetAugDetector', ...))")
    if checkpoint is not None:
        loaded = read_checkpoint(checkpoint)
        check_checkpoint_classes(loaded, cfg, checkpoint)
        state = checkpoint_state_dict(loaded, checkpoint)
        if check_checkpoint_fits(model, state, checkpoint) == 'plain' and \
                not plain_checkpoint:
            raise CheckpointMismatchError(
                f'{checkpoint} is a plain detector\'s checkpoint, not a '
                'NetAug one (no keys detector.*): nothing NetAug trained is '
                'in it, and its export would be the same weights. Give the '
                'checkpoint of the NetAug run')
        model.load_state_dict(state, strict=True)
    model.eval()
    return model


class ExportError(RuntimeError):
    """An export failed its checks or could not be written; nothing under
    the final names was changed."""


def config_test_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """The image size the config tests at, (H, W): the ``scale`` (W, H) of
    the first ``Resize`` of its test pipeline (or validation pipeline);
    None when there is none."""
    for key in ('test_dataloader', 'val_dataloader'):
        leaves = leaf_datasets((cfg.get(key) or {}).get('dataset'), key)
        _, dataset = next(leaves, (None, {}))
        for step in dataset.get('pipeline') or []:
            scale = step.get('scale') if isinstance(step, dict) and \
                _type_name(step.get('type')) == 'Resize' else None
            if isinstance(scale, (list, tuple)) and len(scale) == 2:
                return int(scale[1]), int(scale[0])
            if isinstance(scale, int):
                return scale, scale
    return None


def export_tiny(cfg: Config,
                model: NetAugDetector,
                out_dir: str,
                name: Optional[str] = None,
                input_size: Tuple[int, int] = (320, 320),
                tolerance: float = 1e-5,
                force: bool = False) -> Dict:
    """Write the tiny model as a plain mmdet config and checkpoint.

    The checkpoint loads with ``strict=True`` into the plain config in stock
    mmdet (no import of this package needed), and the plain model computes
    what the supernet computes in tiny mode. Both are checked on the written
    files in a temporary folder inside ``out_dir`` (``.<name>.*.export``,
    removed afterwards, as are those a killed export left); only then are
    the files moved under their final names, each with an atomic rename, the
    config first. A failed check, a full disk or any other error before the
    renames leaves the export's files in ``out_dir`` as they were.

    Args:
        cfg (Config): The NetAug training config.
        model (NetAugDetector): The trained supernet.
        out_dir (str): Output folder (created).
        name (str, optional): File stem. Default: the config's name + '_tiny'.
        input_size (tuple[int, int]): Image size for the checks and FLOPs.
        tolerance (float): Largest allowed absolute difference between the
            exported model's raw outputs and the supernet's. Default: 1e-5.
        force (bool): Replace an existing, different export of the same
            name. Default: False (refuse).

    Returns:
        dict: ``config`` and ``checkpoint`` paths, ``max_abs_diff`` between
        the exported and the supernet outputs, and ``tiny`` / ``largest``
        complexity dicts (params, flops).

    Raises:
        ExportError: The outputs differ by more than ``tolerance``, the
            reload is not strict, a different export exists (without
            ``force``), the files could not be written (e.g. a full disk),
            ``out_dir`` is a file, or ``input_size`` or ``tolerance`` is
            out of range.
    """
    import errno
    import glob
    import numbers
    import shutil
    import tempfile

    import mmengine
    if len(input_size) != 2 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and
            v > 0 for v in input_size):
        raise ExportError(f'input_size must be two positive ints (H, W), '
                          f'got {tuple(input_size)}')
    if not tolerance >= 0:  # NaN too
        raise ExportError(f'tolerance must be >= 0, got {tolerance}')
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise ExportError(f'{out_dir} is a file, not a folder to export '
                          'into')
    mmengine.mkdir_or_exist(out_dir)
    stem = name or (osp.splitext(osp.basename(cfg.filename or 'model'))[0] +
                    '_tiny')
    final = {ext: osp.join(out_dir, stem + ext) for ext in ('.py', '.pth')}

    model.eval()
    static = model.export_plain().eval()
    plain = plain_config(cfg, model)
    meta = dict(
        netaug_export=dict(
            source_config=cfg.filename,
            group_widths=list(model.supernet.tiny_widths())))
    dataset_meta = _dataset_meta(plain)
    if dataset_meta is not None:  # mmdet's init_detector reads the classes
        meta['dataset_meta'] = dataset_meta
    for leftover in glob.glob(osp.join(out_dir, f'.{stem}.*.export')):
        shutil.rmtree(leftover, ignore_errors=True)  # of a killed export
    staging = tempfile.mkdtemp(prefix=f'.{stem}.', suffix='.export',
                               dir=out_dir)
    try:
        staged = {ext: osp.join(staging, stem + ext) for ext in final}
        try:
            plain.dump(staged['.py'])
            with open(staged['.pth'], 'wb') as f:  # write errors: OSError
                torch.save(dict(meta=meta, state_dict=static.state_dict()),
                           f)
                f.flush()
                os.fsync(f.fileno())
        except (OSError, RuntimeError) as error:
            if getattr(error, 'errno', None) == errno.ENOSPC or \
                    'No space left' in str(error):
                raise ExportError(
                    f'No space left on the device of {out_dir} while '
                    'writing the export; nothing was written under '
                    f'{final[".pth"]}. Free some space and export again'
                ) from error
            raise ExportError(f'Cannot write the export into {out_dir}: '
                              f'{error}') from error

        # Check the written files: strict load into a model built from the
        # written config, and equal raw outputs.
        reloaded = MODELS.build(load_config(staged['.py']).model).eval()
        state = torch.load(staged['.pth'], map_location='cpu',
                           weights_only=True)
        try:
            reloaded.load_state_dict(state['state_dict'], strict=True)
        except RuntimeError as error:
            raise ExportError('The exported checkpoint does not load '
                              f'strictly into the exported config: {error}'
                              ) from error
        diff = max_output_difference(model, reloaded,
                                     torch.rand(2, 3, *input_size) * 255)
        if not diff <= tolerance:
            raise ExportError(
                f'The exported model\'s outputs differ from the supernet\'s '
                f'tiny mode by up to {diff:.3g} (tolerance {tolerance:g}); '
                f'nothing was written under {out_dir}')
        existing = [
            path for ext, path in final.items() if osp.exists(path) and
            not _same_bytes(path, staged[ext])
        ]
        if existing and not force:
            raise ExportError(
                f'{", ".join(existing)} already exist(s) and differ(s) from '
                'this export; choose another OUT_DIR or pass --force to '
                'replace them')
        for ext, path in final.items():
            os.replace(staged[ext], path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    largest = model.export_plain(model.supernet.largest_widths())
    return dict(
        config=final['.py'],
        checkpoint=final['.pth'],
        max_abs_diff=diff,
        tiny=model_complexity(static, input_size),
        largest=model_complexity(largest, input_size))


def _dataset_meta(plain: Config) -> Optional[dict]:
    """The test dataset's metainfo (class names, palette), as mmdet's
    ``init_detector`` reads it from a checkpoint (``meta.dataset_meta``;
    without it, it names the classes after COCO's 80): the dataset built
    lazily, without its data, as ``init_detector`` builds it. None, with a
    warning, when it cannot be built."""
    from mmengine.logging import print_log

    from mmdet.registry import DATASETS
    dataset = (plain.get('test_dataloader') or {}).get('dataset')
    try:
        metainfo = DATASETS.build(dict(dataset, lazy_init=True)).metainfo
    except Exception as error:  # any dataset class, any failure: said
        print_log(f'The export does not name its classes (the test '
                  f'dataset\'s metainfo could not be read: {error!r}); '
                  'mmdet\'s init_detector will name them after COCO\'s',
                  logger='current', level=30)
        return None
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in metainfo.items() if k in ('classes', 'palette')}


def _same_bytes(a: str, b: str) -> bool:
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        return fa.read() == fb.read()


def flatten_outputs(outputs) -> List[torch.Tensor]:
    """The tensors of a detector's nested raw outputs, in order."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [t for item in outputs for t in flatten_outputs(item)]


def max_output_difference(model: nn.Module, other: nn.Module,
                          images: torch.Tensor) -> float:
    """The largest absolute difference between two detectors' raw outputs
    (``_forward``) on ``images``; infinite when the outputs do not line up,
    NaN when any output differs by NaN (in whichever output: Python's
    ``max`` would skip a NaN after a number). The export's parity check,
    also the benchmark's."""
    with torch.no_grad():
        ours = flatten_outputs(model._forward(images))
        theirs = flatten_outputs(other._forward(images))
    if len(ours) != len(theirs) or any(a.shape != b.shape
                                       for a, b in zip(ours, theirs)):
        return float('inf')
    diffs = [(a - b).abs().max().item() for a, b in zip(ours, theirs)]
    return math.nan if any(math.isnan(d) for d in diffs) else max(diffs)
