"""Export of the tiny model as a plain mmdet detector, and its cost."""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmdet.registry import MODELS
from ..models import NetAugDetector


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


def plain_config(cfg: Config, model: NetAugDetector) -> Config:
    """The training config rewritten for the exported plain detector: the
    model is the tiny detector, and nothing refers to this package."""
    plain = copy.deepcopy(cfg)
    plain.model = model.plain_detector_config()
    plain.pop('custom_imports', None)
    plain.custom_hooks = [
        h for h in plain.get('custom_hooks', []) if h.get('type') not in (
            'NetAugHook', 'mmdet_netaug.NetAugHook')
    ]
    plain.load_from = None
    plain.resume = False
    # Helper variables of NetAug configs (e.g. ``detector``) would keep
    # naming this package's types in the plain config.
    for key in [k for k in plain.keys() if k != 'model']:
        if 'NetAug' in repr(plain[key]):
            plain.pop(key)
    # The package's checked dataset becomes mmdet's own (without its own
    # fields, which CocoDataset would refuse).
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if plain.get(key):
            _rename_types(plain[key], {'CheckedCocoDataset': 'CocoDataset'},
                          drop=('invalid_boxes', 'max_reported'))
    return plain


def _rename_types(cfg, names: Dict[str, str], drop: Sequence[str] = ()
                  ) -> None:
    """Rename ``type`` values in a nested config in place, removing the
    ``drop`` fields of the renamed nodes."""
    if isinstance(cfg, dict):
        if cfg.get('type') in names:
            cfg['type'] = names[cfg['type']]
            for field in drop:
                cfg.pop(field, None)
        for value in cfg.values():
            _rename_types(value, names, drop)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _rename_types(value, names, drop)


def build_netaug_model(cfg: Config, checkpoint: Optional[str] = None
                       ) -> NetAugDetector:
    """Build the config's NetAugDetector, optionally loading a checkpoint
    strictly. Raises a clear error for a config without NetAug."""
    model = MODELS.build(cfg.model)
    if not isinstance(model, NetAugDetector):
        raise TypeError(f'model.type is {cfg.model.get("type")!r}: export '
                        'needs a NetAug config (model=dict(type='
                        "'NetAugDetector', ...))")
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.eval()
    return model


def export_tiny(cfg: Config,
                model: NetAugDetector,
                out_dir: str,
                name: Optional[str] = None,
                input_size: Tuple[int, int] = (320, 320),
                widths: Optional[Sequence[int]] = None) -> Dict:
    """Write the tiny model as a plain mmdet config and checkpoint.

    The checkpoint loads with ``strict=True`` into the plain config in stock
    mmdet (no import of this package needed), and the plain model computes
    exactly what the supernet computes in tiny mode; both facts are checked
    here before returning.

    Args:
        cfg (Config): The NetAug training config.
        model (NetAugDetector): The trained supernet.
        out_dir (str): Output folder (created).
        name (str, optional): File stem. Default: the config's name + '_tiny'.
        input_size (tuple[int, int]): Image size for the checks and FLOPs.
        widths (list[int], optional): Export another sub-network instead of
            the tiny model (group widths, see ``model.supernet.choices``).

    Returns:
        dict: ``config`` and ``checkpoint`` paths, ``max_abs_diff`` between
        the exported and the supernet outputs, and ``tiny`` / ``largest``
        complexity dicts (params, flops).
    """
    import mmengine
    mmengine.mkdir_or_exist(out_dir)
    stem = name or (osp.splitext(osp.basename(cfg.filename or 'model'))[0] +
                    '_tiny')
    config_path = osp.join(out_dir, stem + '.py')
    ckpt_path = osp.join(out_dir, stem + '.pth')

    model.eval()
    static = model.export_plain(widths).eval()
    plain = plain_config(cfg, model)
    plain.dump(config_path)
    meta = dict(
        netaug_export=dict(
            source_config=cfg.filename,
            group_widths=list(model.supernet.widths if widths is None else
                              widths)))
    torch.save(dict(meta=meta, state_dict=static.state_dict()), ckpt_path)

    # Check the written files: strict load into a model built from the
    # written config, and identical raw outputs.
    reloaded = MODELS.build(Config.fromfile(config_path).model).eval()
    state = torch.load(ckpt_path, map_location='cpu', weights_only=True)
    reloaded.load_state_dict(state['state_dict'], strict=True)
    image = torch.rand(2, 3, *input_size) * 255
    with torch.no_grad():
        ours = model._forward(image)
        theirs = reloaded._forward(image)
    diff = max((a - b).abs().max().item()
               for a, b in zip(flatten_outputs(ours), flatten_outputs(theirs)))
    largest = model.export_plain(model.supernet.largest_widths())
    return dict(
        config=config_path,
        checkpoint=ckpt_path,
        max_abs_diff=diff,
        tiny=model_complexity(static, input_size),
        largest=model_complexity(largest, input_size))


def flatten_outputs(outputs) -> List[torch.Tensor]:
    """The tensors of a detector's nested raw outputs, in order."""
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [t for item in outputs for t in flatten_outputs(item)]
