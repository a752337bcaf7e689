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
from typing import Iterator, List, Optional, Sequence, Tuple

COCO_HINT = ("download COCO 2017 from https://cocodataset.org and arrange "
             "data/coco/{annotations,train2017,val2017} (see README, 'Datasets')")
VOC_HINT = ("arrange data/VOCdevkit/VOC2007 and VOC2012, then convert them "
            "to COCO format with tools/dataset_converters/voc_to_coco.py "
            "(see README, 'Datasets')")
SYNTHETIC_HINT = ("generate it: python tools/misc/make_synthetic_dataset.py "
                  "(data/synthetic/)")
HARD_SHAPES_HINT = ("generate it: python tools/misc/make_synthetic_dataset.py "
                    "--variant hard (data/hard_shapes/)")
CARDS_HINT = ("convert the cards photographs (../shared/data/cards, Pascal "
              "VOC XML) to COCO format: python "
              "tools/dataset_converters/voc_to_coco.py ../shared/data/cards "
              "data/cards --splits train test --classes nine ten jack queen "
              "king ace --link-images (see README, 'Datasets')")
VOC_TYPES = ('VOCDataset', 'XMLDataset')

# (config field as a dotted --cfg-options key, resolved path,
#  dataset family: 'cards' | 'coco' | 'voc' | 'synthetic' | 'hard_shapes'
#  | 'other')
_Missing = Tuple[str, str, str]


def _type_name(cfg) -> str:
    """Name of ``cfg['type']``, which may be a string or a class."""
    t = cfg.get('type', '')
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def _kind(type_name: str, path: str) -> str:
    """Guess the dataset family from its type, then from its path."""
    if 'cards' in path.lower():
        return 'cards'
    if 'hard_shapes' in path.lower():
        return 'hard_shapes'
    if 'synthetic' in path.lower():
        return 'synthetic'
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


def leaf_datasets(cfg, field: str) -> Iterator[Tuple[str, dict]]:
    """``(field, config)`` of every leaf dataset below dataset wrappers."""
    if not isinstance(cfg, dict):
        return
    if 'datasets' in cfg:  # ConcatDataset
        for i, sub in enumerate(cfg['datasets']):
            yield from leaf_datasets(sub, f'{field}.datasets.{i}')
    elif 'dataset' in cfg:  # RepeatDataset, ClassBalancedDataset, MultiImageMix..
        yield from leaf_datasets(cfg['dataset'], f'{field}.dataset')
    else:
        yield field, cfg


def _resolve(data_root: str, path: str) -> str:
    """A dataset path as mmengine resolves it: relative, non-URL paths are
    joined to ``data_root``."""
    return path if (not data_root or osp.isabs(path) or '://' in path) \
        else osp.join(data_root, path)


def _metrics(cfg, field: str) -> Iterator[Tuple[str, dict]]:
    """``(field, config)`` of every metric of a metric, a list of metrics or
    an Evaluator."""
    if isinstance(cfg, (list, tuple)):
        for i, sub in enumerate(cfg):
            yield from _metrics(sub, f'{field}.{i}')
    elif isinstance(cfg, dict):
        if 'metrics' in cfg:  # dict(type='Evaluator', metrics=...)
            yield from _metrics(cfg['metrics'], f'{field}.metrics')
        else:
            yield field, cfg


def _walk_dataset(cfg, field: str, missing: List[_Missing]) -> None:
    """Check the files of every leaf dataset."""
    for field, leaf in leaf_datasets(cfg, field):
        type_name, backend_args = _type_name(leaf), leaf.get('backend_args')
        data_root = leaf.get('data_root') or ''
        ann_file = leaf.get('ann_file')
        if isinstance(ann_file, str) and ann_file:
            _check(f'{field}.ann_file', _resolve(data_root, ann_file),
                   type_name, backend_args, missing)
        prefixes = leaf.get('data_prefix') or {}
        for key in ('img', 'sub_data_root'):
            if isinstance(prefixes.get(key), str):
                # '' means "data_root itself", which is worth checking too
                path = _resolve(data_root, prefixes[key]) or data_root
                _check(f'{field}.data_prefix.{key}', path, type_name,
                       backend_args, missing)


def _walk_evaluator(cfg, field: str, missing: List[_Missing]) -> None:
    """Check ``ann_file`` of every metric."""
    for field, metric in _metrics(cfg, field):
        if isinstance(metric.get('ann_file'), str):  # CocoMetric may have None
            _check(f'{field}.ann_file', metric['ann_file'],
                   _type_name(metric), metric.get('backend_args'), missing)


def _hint(missing: Sequence[_Missing], cfg=None) -> str:
    kinds = {kind for _, _, kind in missing}
    hints = [h for k, h in (('cards', CARDS_HINT), ('coco', COCO_HINT),
                            ('voc', VOC_HINT), ('synthetic', SYNTHETIC_HINT),
                            ('hard_shapes', HARD_SHAPES_HINT)) if k in kinds]
    field = missing[0][0].rsplit('.', 1)[0]
    field = field[:-len('.data_prefix')] if field.endswith('.data_prefix') else field
    hints.append('if the data lives elsewhere, point the config at it with '
                 f'--cfg-options, e.g. --cfg-options {field}.data_root=/path/to/data/'
                 if 'dataloader' in field else
                 'if the data lives elsewhere, point the config at it with '
                 f'--cfg-options, e.g. --cfg-options {missing[0][0]}=/path/to/file')
    metric_fields = [f for f, _ in _evaluator_ann_files(cfg, ('val', 'test'))
                     ] if cfg is not None else []
    if metric_fields and 'dataloader' in field:
        hints.append('the metrics read their own annotation files: point '
                     + ', '.join(metric_fields) + ' at the same files as '
                     'the dataloaders')
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
            + '\n'.join(lines) + '\n' + _hint(missing, cfg))
    check_evaluator_ann_files(cfg, [s for s in splits if s != 'train'])
    check_class_lists(cfg, splits)


def _dataset_classes(leaf: dict) -> Optional[Tuple[str, ...]]:
    """The class names a leaf dataset config gives its labels 0..K-1:
    its ``metainfo.classes``, else its type's own (mmdet's ``METAINFO``);
    None when neither can be read."""
    classes = (leaf.get('metainfo') or {}).get('classes')
    if classes is None:
        from mmdet.registry import DATASETS
        dataset_type = leaf.get('type')
        if isinstance(dataset_type, str):
            dataset_type = DATASETS.get(dataset_type)
        classes = getattr(dataset_type, 'METAINFO', {}).get('classes')
    if isinstance(classes, str):
        classes = (classes, )
    return tuple(classes) if isinstance(classes, (list, tuple)) else None


def _head_num_classes(model: dict) -> Iterator[Tuple[str, int]]:
    """``(field, num_classes)`` of the detection heads of a model config
    (through NetAug's and distillation's ``detector`` wrapper)."""
    field = 'model'
    while isinstance(model, dict) and isinstance(model.get('detector'), dict):
        model, field = model['detector'], f'{field}.detector'
    for head in ('bbox_head', 'roi_head.bbox_head'):
        cfg = model
        for key in head.split('.'):
            cfg = cfg.get(key) if isinstance(cfg, dict) else None
        if isinstance(cfg, dict) and isinstance(cfg.get('num_classes'), int):
            yield f'{field}.{head}.num_classes', cfg['num_classes']


def dataset_class_lists(cfg, splits: Sequence[str] = ('train', 'val', 'test')
                        ) -> List[Tuple[str, Tuple[str, ...]]]:
    """``(field, classes)`` of every leaf dataset of the splits'
    dataloaders whose class list can be read (:func:`_dataset_classes`)."""
    found = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader') or {}
        for field, leaf in leaf_datasets(loader.get('dataset'),
                                         f'{split}_dataloader.dataset'):
            classes = _dataset_classes(leaf)
            if classes is not None:
                found.append((f'{field}.metainfo.classes', classes))
    return found


def check_class_lists(cfg, splits: Sequence[str] = ('train', 'val', 'test')
                      ) -> None:
    """Raise ``ValueError`` when the splits' datasets name their labels
    with different class lists, or the detection head predicts another
    number of classes.

    Labels are positions in a dataset's class list: a class left out of
    the training set's ``metainfo`` only (or given in another order) makes
    label 0 another class in training than in validation, and every
    detection is scored as the wrong class, with no error anywhere (mmdet's
    ``NumClassCheckHook`` catches only some configs, and not with
    ``python -O``). A head with more outputs than classes trains classes
    that do not exist.
    """
    found = dataset_class_lists(cfg, splits)
    if not found:
        return
    field, classes = found[0]
    others = [(f, c) for f, c in found[1:] if c != classes]
    if others:
        raise ValueError(
            'the datasets name their labels with different class lists '
            '(a label is a position in the list, so the same label would '
            'mean another class):\n' + '\n'.join(
                f'  {f}: {list(c)}' for f, c in [found[0]] + others) +
            '\nHint: give every split the same metainfo.classes')
    for head_field, num_classes in _head_num_classes(cfg.get('model')):
        if num_classes != len(classes):
            raise ValueError(
                f'{head_field} is {num_classes}, but {field} has '
                f'{len(classes)} classes {list(classes)}: set it to '
                f'{len(classes)}')


def _evaluator_ann_files(cfg, splits) -> List[Tuple[str, str]]:
    """``(field, ann_file)`` of every COCO-style metric (``CocoMetric``,
    ``LVISMetric``, ...) of the splits' evaluators that reads its own
    annotation file."""
    return [(f'{field}.ann_file', metric['ann_file'])
            for split in splits
            for field, metric in _metrics(cfg.get(f'{split}_evaluator'),
                                          f'{split}_evaluator')
            if isinstance(metric.get('ann_file'), str) and metric['ann_file']
            and any(k in _type_name(metric) for k in ('Coco', 'LVIS'))]


def _dataset_ann_files(cfg, split: str) -> List[Tuple[str, str]]:
    """``(field, resolved ann_file)`` of every leaf dataset of a split's
    dataloader."""
    loader = cfg.get(f'{split}_dataloader') or {}
    return [(f'{field}.ann_file',
             _resolve(leaf.get('data_root') or '', leaf['ann_file']))
            for field, leaf in leaf_datasets(
                loader.get('dataset'), f'{split}_dataloader.dataset')
            if isinstance(leaf.get('ann_file'), str) and leaf['ann_file']]


def check_evaluator_ann_files(cfg, splits: Sequence[str] = ('val', 'test')
                              ) -> None:
    """Raise ``ValueError`` when a metric of a split reads another annotation
    file than the split's dataloader.

    mmdet's ``CocoMetric`` loads its own ``ann_file``: overriding a dataset's
    ``data_root`` (or ``ann_file``) alone leaves the metric scoring against
    the old ground truth, silently. A split whose dataloader has several
    annotation files (a ``ConcatDataset``) is not checked.
    """
    problems = []
    for split in splits:
        datasets = _dataset_ann_files(cfg, split)
        if len(datasets) != 1:
            continue
        data_field, data_file = datasets[0]
        for field, metric_file in _evaluator_ann_files(cfg, (split, )):
            if '://' in metric_file or '://' in data_file:
                continue
            if osp.realpath(metric_file) != osp.realpath(data_file):
                problems.append(
                    f'  {field}: {metric_file}\n  {data_field} (with its '
                    f'data_root): {data_file}')
    if problems:
        raise ValueError(
            'a metric would score against another annotation file than the '
            'one its dataloader reads:\n' + '\n'.join(problems) +
            '\nHint: when you move the data with --cfg-options, set both '
            'fields, e.g. --cfg-options val_dataloader.dataset.data_root=DIR/ '
            'val_evaluator.0.ann_file=DIR/annotations/FILE.json (the same '
            'for test_)')
