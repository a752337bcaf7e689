"""A COCO dataset that reports bad annotations and unreadable images.

mmdet 3.3.0's ``CocoDataset.parse_data_info`` silently drops boxes with
``w < 1``, ``h < 1`` or ``area <= 0``, boxes entirely outside their image
and boxes whose ``category_id`` the file does not define, and keeps boxes
that stick out of the image as they are. mmcv's ``LoadImageFromFile``
reports an undecodable image as ``AssertionError('failed to load image:
PATH')`` (gone under ``python -O``), and an empty file as an OpenCV error
that does not name the file at all.

:class:`CheckedCocoDataset` is ``CocoDataset`` with every such case
reported: boxes are clipped to the image or dropped with a warning (or an
error, ``invalid_boxes='error'``) that names the image file, the box, the
annotation id and what was done; an image that cannot be decoded raises
:class:`CorruptImageError` naming the file and the annotation file.
On clean data (e.g. what ``tools/dataset_converters/voc_to_coco.py``
writes) it gives exactly ``CocoDataset``'s samples.
"""
import os.path as osp
import warnings
from typing import List, Optional, Tuple, Union

import mmcv
from mmengine import fileio

from mmdet.datasets import CocoDataset
from mmdet.datasets.api_wrappers import COCO
from mmdet.registry import DATASETS

from .box_rule import check_box


class InvalidBoxWarning(UserWarning):
    """Boxes of a COCO annotation file were clipped or dropped."""


class CorruptImageError(ValueError):
    """An image of a dataset exists but cannot be decoded."""


class ClassMismatchWarning(UserWarning):
    """Categories of a COCO file that the configured classes leave out."""


def check_class_names(ann_file: str, classes, categories: List[dict]
                      ) -> List[int]:
    """The category ids of ``classes``, in their order, matched by name.

    mmdet's ``CocoDataset`` and ``CocoMetric`` both take
    ``coco.get_cat_ids(cat_names=classes)``: the file's categories whose
    names are configured, in the *file's* order. When a configured class is
    missing from the file (a split converted without ``--classes``, a
    renamed or differently capitalised category) or the file lists the
    classes in another order, labels no longer follow names: a box of
    ``king`` trains label 1 (``ten``). This refuses those cases, naming the
    classes, and warns about file categories the config leaves out (their
    boxes are dropped, labels unchanged).

    Raises:
        ValueError: A configured class is not a category of ``ann_file``,
            or the file orders the configured classes differently.
    """
    ids = {}
    for cat in categories:
        ids.setdefault(cat.get('name'), cat.get('id'))
    classes = list(classes)
    missing = [c for c in classes if c not in ids]
    names = [cat.get('name') for cat in categories]
    if missing:
        near = {c: n for c in missing for n in names
                if isinstance(n, str) and isinstance(c, str)
                and n.strip().lower() == c.strip().lower()}
        hint = ''.join(f'; {c!r} is spelled {n!r} in the file'
                       for c, n in near.items())
        raise ValueError(
            f'{ann_file}: the configured classes {missing} are not among '
            f"the file's categories {names}{hint}. Labels must follow "
            'class names: give the dataset (and every metric) exactly the '
            "file's class names, or convert the data again with every class "
            '(tools/dataset_converters/voc_to_coco.py --classes ...)')
    in_file_order = [cat.get('id') for cat in categories
                     if cat.get('name') in classes]
    by_name = [ids[c] for c in classes]
    if in_file_order != by_name:
        raise ValueError(
            f'{ann_file}: the file lists the configured classes in another '
            f'order, or one of them twice '
            f'({[n for n in names if n in classes]}), than the config '
            f"({classes}); mmdet numbers them in the file's order, so labels "
            "would not follow names. Configure the classes in the file's "
            'order, or convert the data again with --classes in that order')
    extra = [n for n in names if n not in classes]
    if extra:
        warnings.warn(
            f'{ann_file}: the categories {extra} are not among the '
            f'configured classes {classes}: their boxes are not used',
            ClassMismatchWarning, stacklevel=3)
    return by_name


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """``CocoDataset`` that never drops or keeps a bad box silently, and
    names the file of an image it cannot read.

    Every box (``[x, y, w, h]`` in the file) is checked against its image's
    ``width`` and ``height`` from the annotation file:

    * not finite, zero or negative size, or below one pixel (``w < 1`` or
      ``h < 1``, which mmdet would drop): dropped;
    * entirely outside the image: dropped;
    * partly outside: clipped to the image (dropped if less than a pixel
      remains);
    * a ``category_id`` that the file's ``categories`` do not define:
      dropped (categories left out on purpose through ``metainfo`` are
      not reported);
    * a valid box whose ``area`` is ``<= 0`` (mmdet would drop it): kept,
      with ``area = w * h``.

    After loading, one :class:`InvalidBoxWarning` lists the count and the
    first ``max_reported`` cases (image file, box, annotation id, reason,
    action); all of them are in :attr:`box_problems`. COCO evaluation
    (``CocoMetric``) reads the annotation file itself and is unaffected.

    Args:
        invalid_boxes (str): ``'warn'`` (default) clips or drops as above
            and warns; ``'error'`` raises ``ValueError`` with the same list
            instead.
        max_reported (int): How many cases the message lists. Default: 20.
        *args, **kwargs: ``CocoDataset``'s arguments.
    """

    def __init__(self,
                 *args,
                 invalid_boxes: str = 'warn',
                 max_reported: int = 20,
                 **kwargs) -> None:
        if invalid_boxes not in ('warn', 'error'):
            raise ValueError('CheckedCocoDataset: field "invalid_boxes" must '
                             f"be 'warn' or 'error', got {invalid_boxes!r}")
        self.invalid_boxes = invalid_boxes
        self.max_reported = max_reported
        #: ``(image file, annotation id, box, reason, action)`` of every
        #: box that was clipped, dropped or fixed.
        self.box_problems: List[Tuple[str, object, list, str, str]] = []
        self._sizes_checked = set()
        super().__init__(*args, **kwargs)

    # -- annotations --------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        self.box_problems = []
        #: Images whose every box the check dropped.
        self._emptied = set()
        ann_file = self.ann_file
        # CocoDataset numbers the classes by coco.get_cat_ids(cat_names=...):
        # the name-checked COCO refuses what would shift labels
        self.COCOAPI = lambda path: _NameCheckedCOCO(path, ann_file)
        try:
            data_list = super().load_data_list()
        finally:
            del self.COCOAPI
        self._report_box_problems()
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> Union[dict, List[dict]]:
        img_info = raw_data_info['raw_img_info']
        image = osp.join(self.data_prefix.get('img', ''),
                         img_info['file_name'])
        checked = []
        for ann in raw_data_info['raw_ann_info']:
            if ann.get('ignore', False):
                checked.append(ann)
                continue
            ann = self._check_annotation(ann, image, img_info)
            if ann is not None:
                checked.append(ann)
        if raw_data_info['raw_ann_info'] and not checked:
            self._emptied.add(img_info['img_id'])
        return super().parse_data_info(
            dict(raw_data_info, raw_ann_info=checked))

    def _check_annotation(self, ann: dict, image: str,
                          img_info: dict) -> Optional[dict]:
        """The annotation to use (clipped or fixed copy), or None to drop;
        records what it did."""
        box = ann.get('bbox')
        try:
            x, y, w, h = (float(v) for v in box)
        except (TypeError, ValueError):
            raise ValueError(
                f'{self.ann_file}: annotation {ann.get("id")!r} of image '
                f'{image} has bbox {box!r}; expected [x, y, width, height] '
                '(4 numbers)') from None

        if ann.get('category_id') not in self.coco.cats:
            self.box_problems.append(
                (image, ann.get('id'), list(box),
                 f'category_id {ann.get("category_id")!r} is not among '
                 "the file's categories", 'dropped'))
            return None
        checked = check_box(x, y, w, h, img_info['width'],
                            img_info['height'])
        reasons, actions = [], []
        if checked.reason is not None:
            reasons.append(checked.reason)
            actions.append(checked.action)
        if checked.box is not None:
            ann = dict(ann, bbox=checked.box)
            if not ann.get('area', 0) > 0:
                reasons.append(f'area is {ann.get("area")!r}')
                actions.append('kept with area = w * h')
                ann['area'] = checked.box[2] * checked.box[3]
        if reasons:  # one record per box, whatever was wrong with it
            self.box_problems.append((image, ann.get('id'), list(box),
                                      '; '.join(reasons),
                                      ', '.join(actions)))
        return None if checked.box is None else ann

    def _report_box_problems(self) -> None:
        problems = self.box_problems
        if not problems:
            return
        dropped = sum(p[4] == 'dropped' for p in problems)
        lines = [
            f'  {image}: box {box} (annotation id {ann_id}): {reason}; '
            f'{action}' for image, ann_id, box, reason, action in
            problems[:self.max_reported]
        ]
        if len(problems) > self.max_reported:
            lines.append(f'  ... and {len(problems) - self.max_reported} '
                         'more (see dataset.box_problems)')
        message = (f'{self.ann_file}: {len(problems)} invalid boxes '
                   f'({dropped} dropped, {len(problems) - dropped} clipped '
                   'or fixed):\n' + '\n'.join(lines))
        if self.invalid_boxes == 'error':
            raise ValueError(message + '\nFix the annotation file, or set '
                             "invalid_boxes='warn' to clip/drop them")
        warnings.warn(message, InvalidBoxWarning, stacklevel=2)

    def filter_data(self) -> List[dict]:
        """mmdet's filtering, then one pass over the kept images' paths.

        mmdet tells empty images (``filter_empty_gt``) from the raw
        annotation file; an image whose every box the check dropped is
        removed too, as it would be had the file held none, and said so."""
        data_list = super().filter_data()
        filter_empty = (self.filter_cfg or {}).get('filter_empty_gt', False)
        emptied = getattr(self, '_emptied', set())
        if filter_empty and not self.test_mode and emptied:
            removed = [d for d in data_list if d['img_id'] in emptied]
            if removed:
                data_list = [d for d in data_list
                             if d['img_id'] not in emptied]
                warnings.warn(
                    f'{self.ann_file}: {len(removed)} images had only '
                    'invalid boxes (dropped above) and are left out, as '
                    'filter_empty_gt leaves out images without boxes: '
                    + ', '.join(d['img_path'] for d in removed[:5])
                    + (' ...' if len(removed) > 5 else ''),
                    InvalidBoxWarning, stacklevel=2)
        self._check_images_exist(data_list)
        return data_list

    # -- images -------------------------------------------------------------
    def _check_images_exist(self, data_list: List[dict]) -> None:
        """One pass over the image paths at the start: a missing image is
        reported now, not at the iteration that first reads it. Skipped for
        other storage backends and for pipelines that tolerate missing
        files (``LoadImageFromFile(ignore_empty=True)``)."""
        transforms = getattr(self.pipeline, 'transforms', [])
        if any(getattr(t, 'ignore_empty', False) for t in transforms):
            return
        backend = (self.backend_args or {})
        if backend.get('backend', 'local') != 'local' or \
                backend.get('path_mapping'):
            return
        missing = [
            info['img_path'] for info in data_list
            if '://' not in str(info.get('img_path', '')) and
            not osp.isfile(info['img_path'])
        ]
        if missing:
            shown = '\n'.join(f'  {path}' for path in missing[:10])
            more = (f'\n  ... and {len(missing) - 10} more'
                    if len(missing) > 10 else '')
            raise FileNotFoundError(
                f'{self.ann_file}: {len(missing)} of its {len(data_list)} '
                f'images do not exist (data_prefix {self.data_prefix}):\n'
                f'{shown}{more}\nCheck data_root and data_prefix.img, or '
                'remove the images from the annotation file')

    def _check_image_size(self, idx: int, data) -> None:
        """The decoded image's size must be the annotation file's (checked
        once per image): boxes were clipped to the file's frame."""
        if idx in self._sizes_checked or not isinstance(data, dict):
            return
        sample = data.get('data_samples')
        decoded = getattr(sample, 'metainfo', {}).get('ori_shape')
        info = self.get_data_info(idx)
        expected = (info.get('height'), info.get('width'))
        if decoded is not None and None not in expected and \
                tuple(decoded[:2]) != tuple(expected):
            swapped = ' (width and height swapped)' if tuple(
                decoded[:2]) == expected[::-1] else ''
            raise ValueError(
                f'{self.ann_file}: image {info.get("img_path")} is '
                f'{decoded[1]}x{decoded[0]} (width x height) but the '
                f'annotation file says {expected[1]}x{expected[0]}'
                f'{swapped}; its boxes were checked against the wrong frame. '
                'Fix "width"/"height" of the image in the annotation file')
        self._sizes_checked.add(idx)

    def prepare_data(self, idx: int):
        try:
            data = super().prepare_data(idx)
        except Exception as error:
            image = self.get_data_info(idx).get('img_path')
            if image is None or isinstance(error, CorruptImageError):
                raise
            problem = _undecodable(image)
            if problem is not None:
                raise CorruptImageError(
                    f'Cannot read image {image} (sample {idx} of '
                    f'{self.ann_file}): {problem}. Replace the file or '
                    'remove the image from the annotation file') from error
            if hasattr(error, 'add_note'):  # Python >= 3.11
                error.add_note(f'(while loading image {image}, sample {idx} '
                               f'of {self.ann_file})')
            raise
        self._check_image_size(idx, data)
        return data


class _NameCheckedCOCO(COCO):
    """mmdet's COCO API whose ``get_cat_ids(cat_names=...)`` matches the
    names with :func:`check_class_names` (errors name ``shown_name``)."""

    def __init__(self, annotation_file: str, shown_name: str) -> None:
        self.shown_name = shown_name
        try:
            super().__init__(annotation_file)
        except (ValueError, AssertionError, TypeError, KeyError) as error:
            # json's decode errors are ValueErrors; pycocotools asserts a
            # dict and indexes 'images'/'annotations'/'categories'
            detail = str(error) or type(error).__name__
            raise ValueError(
                f'{shown_name} is not a COCO annotation file (a JSON object '
                'with "images", "annotations" and "categories"; empty or '
                f'truncated?): {type(error).__name__}: {detail}') from error

    def get_cat_ids(self, cat_names=[], sup_names=[], cat_ids=[]):
        if cat_names and not sup_names and not cat_ids:
            return check_class_names(self.shown_name, cat_names,
                                     self.dataset.get('categories', []))
        return super().get_cat_ids(cat_names, sup_names, cat_ids)


def _undecodable(path: str) -> Optional[str]:
    """Why ``path`` is not a decodable image, or None if it is (or is
    missing: the loader's FileNotFoundError names it already)."""
    try:
        data = fileio.get(path)
    except (FileNotFoundError, OSError):
        return None
    if not data:
        return 'the file is empty'
    try:
        image = mmcv.imfrombytes(data)
    except Exception as error:  # OpenCV/Pillow/turbojpeg decode errors
        return f'{type(error).__name__}: {error}'
    if image is None:
        return f'the {len(data)} bytes are not a decodable image'
    return None
