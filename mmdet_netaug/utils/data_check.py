"""Fail fast, with one readable message, when a config's dataset files are missing.

mmdet only notices a missing annotation file or image folder when the runner
builds the dataloader (or the evaluator), deep inside a traceback. The tools
call :func:`check_dataset_paths` right after loading the config instead.

Paths are resolved the way mmengine's ``BaseDataset`` does it: a relative
``ann_file`` / ``data_prefix`` entry is joined to ``data_root`` (when set),
and anything still relative is relative to the current working directory.
For mmdet's VOC/XML datasets ``ann_file`` is the ImageSets ``.txt`` list under
``data_root`` and the image folder is ``data_prefix['sub_data_root']``, so the
same rule covers them. Only local paths are checked: a path with a ``scheme://``
prefix, or a dataset whose ``backend_args`` select a non-local storage backend
(or map paths to one), is skipped.
"""
import os
import os.path as osp
from typing import List, Sequence, Tuple

COCO_HINT = ("download COCO 2017 from https://cocodataset.org and arrange "
             "data/coco/{annotations,train2017,val2017} (see README, 'Datasets')")
VOC_HINT = ("arrange data/VOCdevkit/VOC2007 and VOC2012 (see README, 'Datasets')")
VOC_TYPES = ('VOCDataset', 'XMLDataset')

# (config field as a dotted --cfg-options key, resolved path,
#  dataset family: 'coco' | 'voc' | 'other')
_Missing = Tuple[str, str, str]


def _type_name(cfg) -> str:
    """Name of ``cfg['type']``, which may be a string or a class."""
    t = cfg.get('type', '')
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def _kind(type_name: str, path: str) -> str:
    """Guess the dataset family from its type, then from its path."""
    if type_name in VOC_TYPES or 'voc' in path.lower():
        return 'voc'
    if 'coco' in type_name.lower() or 'coco' in path.lower():
        return 'coco'
    return 'other'


def _is_remote(path: str, backend_args) -> bool:
    if '://' in path:
        return True
    if not backend_args:  # None or {}: mmengine infers the backend from the path
        return False
    return (backend_args.get('backend', 'local') != 'local'
            or bool(backend_args.get('path_mapping')))


def _check(field: str, path: str, type_name: str, backend_args,
           missing: List[_Missing]) -> None:
    if path and not _is_remote(path, backend_args) and not osp.exists(path):
        missing.append((field, path, _kind(type_name, path)))


def _walk_dataset(cfg, field: str, missing: List[_Missing]) -> None:
    """Descend through dataset wrappers and check every leaf dataset."""
    if not isinstance(cfg, dict):
        return
    if 'datasets' in cfg:  # ConcatDataset
        for i, sub in enumerate(cfg['datasets']):
            _walk_dataset(sub, f'{field}.datasets.{i}', missing)
        return
    if 'dataset' in cfg:  # RepeatDataset, ClassBalancedDataset, MultiImageMix..
        _walk_dataset(cfg['dataset'], f'{field}.dataset', missing)
        return
    type_name, backend_args = _type_name(cfg), cfg.get('backend_args')
    data_root = cfg.get('data_root') or ''

    def resolve(p: str) -> str:
        # mmengine joins only relative, non-URL paths to data_root
        return p if (not data_root or osp.isabs(p) or '://' in p) \
            else osp.join(data_root, p)

    ann_file = cfg.get('ann_file')
    if isinstance(ann_file, str) and ann_file:
        _check(f'{field}.ann_file', resolve(ann_file), type_name, backend_args,
               missing)
    prefixes = cfg.get('data_prefix') or {}
    for key in ('img', 'sub_data_root'):
        if isinstance(prefixes.get(key), str):
            # '' means "data_root itself", which is worth checking too
            path = resolve(prefixes[key]) or data_root
            _check(f'{field}.data_prefix.{key}', path, type_name, backend_args,
                   missing)


def _walk_evaluator(cfg, field: str, missing: List[_Missing]) -> None:
    """Check ``ann_file`` of a metric, a list of metrics or an Evaluator."""
    if isinstance(cfg, (list, tuple)):
        for i, sub in enumerate(cfg):
            _walk_evaluator(sub, f'{field}.{i}', missing)
    elif isinstance(cfg, dict):
        if 'metrics' in cfg:  # dict(type='Evaluator', metrics=...)
            _walk_evaluator(cfg['metrics'], f'{field}.metrics', missing)
        elif isinstance(cfg.get('ann_file'), str):  # CocoMetric may have None
            _check(f'{field}.ann_file', cfg['ann_file'], _type_name(cfg),
                   cfg.get('backend_args'), missing)


def _hint(missing: Sequence[_Missing]) -> str:
    kinds = {kind for _, _, kind in missing}
    hints = [h for k, h in (('coco', COCO_HINT), ('voc', VOC_HINT)) if k in kinds]
    field = missing[0][0].rsplit('.', 1)[0]
    field = field[:-len('.data_prefix')] if field.endswith('.data_prefix') else field
    hints.append('if the data lives elsewhere, point the config at it with '
                 f'--cfg-options, e.g. --cfg-options {field}.data_root=/path/to/data/'
                 if 'dataloader' in field else
                 'if the data lives elsewhere, point the config at it with '
                 f'--cfg-options, e.g. --cfg-options {missing[0][0]}=/path/to/file')
    return '\n'.join(f'Hint: {h}' for h in hints)


def check_dataset_paths(cfg, splits: Sequence[str] = ('train', 'val', 'test')) -> None:
    """Raise ``FileNotFoundError`` listing every missing dataset file of ``cfg``.

    Args:
        cfg (Config | dict): A loaded mmengine config.
        splits (Sequence[str]): Which of ``{split}_dataloader`` (and, for
            'val'/'test', ``{split}_evaluator``) to check; entries missing from
            the config or set to None are skipped.

    Raises:
        FileNotFoundError: One message naming each missing path together with
            the config field it came from, followed by a hint on how to get or
            point to the data.
    """
    missing: List[_Missing] = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            _walk_dataset(loader.get('dataset'), f'{split}_dataloader.dataset',
                          missing)
        if split != 'train' and cfg.get(f'{split}_evaluator') is not None:
            _walk_evaluator(cfg.get(f'{split}_evaluator'), f'{split}_evaluator',
                            missing)
    if missing:
        lines = [f'  {field}: {path}' for field, path, _ in missing]
        raise FileNotFoundError(
            f'{len(missing)} dataset path(s) in the config do not exist '
            f'(relative paths are resolved from {os.getcwd()}):\n'
            + '\n'.join(lines) + '\n' + _hint(missing))
