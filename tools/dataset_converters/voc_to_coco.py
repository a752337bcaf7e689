"""Convert a Pascal-VOC-style dataset to COCO JSON files.

Example::

    python tools/dataset_converters/voc_to_coco.py \
        ../shared/data/cards data/cards --splits train test --link-images

writes ``data/cards/annotations/{train,test}.json`` (one class list shared
by all splits) and links ``data/cards/JPEGImages`` to the VOC images, so a
config can use ``data_root='data/cards/'`` and
``data_prefix=dict(img='JPEGImages/')``. The folder is read by
``voc_xml.py`` beside this file (layout in its docstring).

The box convention matches MMDetection's own converter
(``tools/dataset_converters/pascal_voc.py``) and ``XMLDataset``: VOC corner
coordinates are 1-based pixel indices, so 1 is subtracted from all four
corners, and the COCO box is ``[xmin - 1, ymin - 1, xmax - xmin,
ymax - ymin]``. Objects marked ``difficult`` are written with
``iscrowd=1`` (and ``ignore=0``), exactly as that converter does, so that
COCO evaluation ignores them.

Nothing is dropped silently: degenerate boxes are dropped and boxes that
reach outside the image are clipped by the rule CheckedCocoDataset applies
(``mmdet_netaug.datasets.box_rule``), each with a
:class:`VOCConversionWarning` naming the XML file and the box; everything
else that is malformed raises an error naming the file or field.
"""
import argparse
import json
import os
import os.path as osp
import sys
import warnings
from typing import List, Optional, Sequence, Tuple

import cv2
from voc_xml import (ANNOTATION_DIR, check_classes, collect_voc_classes,
                     load_class_names, parse_voc_xml, read_split_ids)

from mmdet_netaug.datasets.box_rule import check_box
from mmdet_netaug.utils.records import read_json


class VOCConversionWarning(UserWarning):
    """Warning for a box that was dropped or modified during conversion."""


def _resolve_image(img_dir: str, img_id: str, xml_filename: Optional[str],
                   xml_path: str, files: Sequence[str]) -> str:
    """Find the image file of one annotation.

    The image named by the annotation's id (``<img_id>.<ext>``), as in
    mmdet's VOC datasets and converter; ``<filename>`` from the XML only
    chooses between several such files (``a.jpg`` and ``a.png``) or, when
    there is none, names the image. An XML whose ``<filename>`` names
    another existing image than its id (an XML copied from another image,
    files renamed after labelling) is warned about: its boxes go to the
    image of its id.

    Returns:
        str: File name relative to ``img_dir``.
    """
    by_id = sorted(
        f for f in files
        if osp.splitext(f)[0] == img_id and osp.isfile(osp.join(img_dir, f)))
    named = xml_filename if xml_filename and osp.isfile(
        osp.join(img_dir, xml_filename)) else None
    if len(by_id) > 1:
        if named in by_id:
            return named
        raise ValueError(f'Ambiguous image for annotation {xml_path}: '
                         f'{by_id} in {img_dir} all match id "{img_id}"')
    if by_id:
        if named is not None and named != by_id[0]:
            warnings.warn(
                f'{xml_path}: <filename> "{named}" is another image than '
                f'the one its id names, "{by_id[0]}"; its boxes go to '
                f'"{by_id[0]}", as in mmdet\'s VOC datasets (check that '
                'they belong to it)', VOCConversionWarning)
        return by_id[0]
    if named is not None:
        return named
    raise FileNotFoundError(
        f'No image found for annotation {xml_path}: neither '
        f'<filename> "{xml_filename}" nor "{img_id}.*" exists in '
        f'{img_dir}')


def _read_image_size(img_path: str, xml_path: str) -> Tuple[int, int]:
    """Read ``(width, height)`` from the image file itself."""
    img = cv2.imread(img_path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f'Annotation {xml_path} has no valid <size> and '
                         f'the image {img_path} cannot be read')
    return int(img.shape[1]), int(img.shape[0])


def _convert_box(bbox: List[int], width: int, height: int,
                 xml_path: str) -> Optional[List[int]]:
    """Convert a 1-based VOC box to a COCO ``[x, y, w, h]`` box checked by
    the rule :class:`CheckedCocoDataset` applies (:func:`check_box`):
    clipped to the image, or dropped, with a warning naming the file.

    Args:
        bbox (list[int]): ``[xmin, ymin, xmax, ymax]`` as in the XML.
        width (int): Image width.
        height (int): Image height.
        xml_path (str): Annotation file, for the warning messages.

    Returns:
        list[int] | None: The COCO box, or None when it is dropped.
    """
    # Same convention as mmdet's pascal_voc.py converter: subtract 1 from
    # all corners, then w = x2 - x1, h = y2 - y1.
    x1, y1, x2, y2 = (v - 1 for v in bbox)
    checked = check_box(x1, y1, x2 - x1, y2 - y1, width, height)
    if checked.reason is not None:
        verb = 'dropping' if checked.box is None else 'clipping'
        warnings.warn(
            f'{xml_path}: {verb} box (xmin, ymin, xmax, ymax)={tuple(bbox)}: '
            f'{checked.reason}; {checked.action} (COCO [x, y, w, h])',
            VOCConversionWarning)
    return checked.box


def _make_annotation(ann_id: int, img_id: int, cat_id: int, box: List[int],
                     difficult: int) -> dict:
    """Build one COCO annotation dict (fields as in mmdet's converter)."""
    x, y, w, h = box
    return dict(
        id=ann_id,
        image_id=img_id,
        category_id=cat_id,
        bbox=[x, y, w, h],
        area=w * h,
        segmentation=[[x, y, x, y + h, x + w, y + h, x + w, y]],
        iscrowd=1 if difficult else 0,
        ignore=0)


def convert_voc_to_coco(voc_root: str,
                        split: str,
                        out_file: Optional[str],
                        classes: Optional[Sequence[str]] = None,
                        image_prefix: str = 'JPEGImages') -> dict:
    """Convert one split of a VOC-style dataset to a COCO JSON file.

    Image ids are ``1..N`` in split-file order, annotation ids ``1..M`` and
    category ids ``1..K`` in class-list order. ``file_name`` is the image
    file name relative to ``voc_root/image_prefix``.

    Args:
        voc_root (str): Root of the VOC-style dataset.
        split (str): Split name; ids are read from
            ``ImageSets/Main/<split>.txt``.
        out_file (str | None): Output JSON path (parent folders are
            created). None only returns the dict.
        classes (Sequence[str], optional): Class names. An object of
            another class is an error. If None, the classes found in this
            split are used (sorted); prefer passing the result of
            :func:`collect_voc_classes` over all splits, so that all splits
            share one class list. Defaults to None.
        image_prefix (str): Image folder relative to ``voc_root``.
            Defaults to ``'JPEGImages'``.

    Returns:
        dict: The COCO dict (``images``, ``annotations``, ``categories``,
        ``type``).

    Raises:
        FileNotFoundError: If the VOC root, the split file, an annotation
            XML or an image is missing.
        ValueError: If an XML is malformed or an object's class is not in
            ``classes``.
    """
    if not osp.isdir(voc_root):
        raise FileNotFoundError(f'VOC root is not a directory: {voc_root}')
    img_dir = osp.join(voc_root, image_prefix)
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'Image folder not found: {img_dir}')
    if classes is None:
        classes = collect_voc_classes(voc_root, [split])
    classes = check_classes(classes, source='classes argument')
    cat_ids = {name: i for i, name in enumerate(classes, 1)}
    files = os.listdir(img_dir)  # for images found by id, not <filename>

    images, annotations = [], []
    described = {}  # image file -> the annotation that describes it
    for img_idx, img_id in enumerate(read_split_ids(voc_root, split), 1):
        xml_path = osp.join(voc_root, ANNOTATION_DIR, f'{img_id}.xml')
        info = parse_voc_xml(xml_path)
        file_name = _resolve_image(img_dir, img_id, info['filename'],
                                   xml_path, files)
        if file_name in described:  # (an id listed twice: read_split_ids)
            raise ValueError(
                f'Annotations {described[file_name]} and {xml_path} both '
                f'describe the image {osp.join(img_dir, file_name)}: one '
                'of them belongs to another image')
        described[file_name] = xml_path
        width, height = info['width'], info['height']
        if width <= 0 or height <= 0:
            width, height = _read_image_size(
                osp.join(img_dir, file_name), xml_path)
        images.append(
            dict(id=img_idx, file_name=file_name, width=width, height=height))
        for obj in info['objects']:
            if obj['name'] not in cat_ids:
                raise ValueError(
                    f'Annotation {xml_path}: class "{obj["name"]}" is not in '
                    f'the class list {classes}')
            box = _convert_box(obj['bbox'], width, height, xml_path)
            if box is not None:
                annotations.append(
                    _make_annotation(
                        len(annotations) + 1, img_idx, cat_ids[obj['name']],
                        box, obj['difficult']))
    present = {ann['category_id'] for ann in annotations}
    absent = [name for name, i in cat_ids.items() if i not in present]
    if absent:
        warnings.warn(
            f'Split "{split}" of {voc_root} has no boxes of the classes '
            f'{absent}; they are still written as categories, so that '
            'labels follow the class list in every split',
            VOCConversionWarning, stacklevel=2)

    coco = dict(
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i, name=name, supercategory='none')
            for name, i in cat_ids.items()
        ],
        type='instance')
    if out_file is not None:
        out_dir = osp.dirname(osp.abspath(out_file))
        os.makedirs(out_dir, exist_ok=True)
        with open(out_file, 'w', encoding='utf-8') as f:
            json.dump(coco, f)
    return coco


def parse_args(argv=None):
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Convert a Pascal-VOC-style folder (Annotations/, '
        'JPEGImages/, ImageSets/Main/<split>.txt) to COCO JSON')
    parser.add_argument('voc_root', help='VOC-style dataset root')
    parser.add_argument(
        'out_dir', help='output folder; writes annotations/<split>.json')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'test'],
        help='split names (ImageSets/Main/<split>.txt)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--classes',
        nargs='+',
        help='class names in category-id order (default: the sorted class '
        'names found in all given splits)')
    group.add_argument(
        '--classes-file', help='text file with one class name per line')
    parser.add_argument(
        '--image-prefix',
        default='JPEGImages',
        help='image folder relative to voc_root')
    parser.add_argument(
        '--name-prefix',
        default='',
        help='prefix of the written file names, e.g. voc07_ writes '
        'annotations/voc07_<split>.json')
    parser.add_argument(
        '--link-images',
        action='store_true',
        help='symlink OUT_DIR/<image-prefix> to the VOC image folder')
    return parser.parse_args(argv)


def link_images(voc_root, out_dir, image_prefix):
    """Symlink ``out_dir/image_prefix`` to ``voc_root/image_prefix``.

    Args:
        voc_root (str): VOC-style dataset root.
        out_dir (str): Output folder.
        image_prefix (str): Image folder name.

    Returns:
        str: Path of the link.
    """
    target = osp.abspath(osp.join(voc_root, image_prefix))
    link = osp.join(out_dir, image_prefix)
    if osp.islink(link):
        if osp.realpath(link) == osp.realpath(target):
            return link
        raise FileExistsError(f'{link} already links to '
                              f'{os.readlink(link)}, not {target}')
    if osp.exists(link):
        raise FileExistsError(f'{link} exists and is not a symlink; remove '
                              'it or drop --link-images')
    os.makedirs(osp.dirname(osp.abspath(link)), exist_ok=True)
    os.symlink(target, link, target_is_directory=True)
    return link


def check_shared_classes(out_dir: str, name_prefix: str,
                         written: Sequence[str],
                         classes: Sequence[str]) -> None:
    """Refuse to write splits whose class list differs from that of the
    splits already in ``out_dir/annotations`` (same ``name_prefix``) that
    this conversion leaves as they are: category ids would then name
    different classes in train and test, and every label would be wrong
    with no error anywhere.

    Args:
        out_dir (str): Output folder.
        name_prefix (str): Prefix of the annotation files.
        written (Sequence[str]): Paths of the files this conversion writes.
        classes (Sequence[str]): Its class list, in category-id order.

    Raises:
        ValueError: Naming the first other file with another class list.
    """
    ann_dir = osp.join(out_dir, 'annotations')
    if not osp.isdir(ann_dir):
        return
    written = {osp.abspath(f) for f in written}
    for name in sorted(os.listdir(ann_dir)):
        path = osp.join(ann_dir, name)
        if not (name.startswith(name_prefix) and name.endswith('.json')) \
                or osp.abspath(path) in written:
            continue
        try:
            theirs = [c['name'] for c in sorted(
                read_json(path)['categories'], key=lambda c: c['id'])]
        except (TypeError, KeyError):  # unreadable (None), or not a split's
            continue  # COCO file: not ours to compare
        if theirs != list(classes):
            raise ValueError(
                f'{path} has the classes {theirs} (in category-id order), '
                f'this conversion {list(classes)}: the splits of one dataset '
                'must share one class list, or labels mean different '
                'classes in each. Pass the same --classes (or convert all '
                'splits together); nothing was written.')


def main(argv=None):
    """Run the conversion: every split is converted before anything is
    written, so an error (one line, naming the file) leaves the output
    folder as it was."""
    args = parse_args(argv)
    try:
        convert(args)
    except (OSError, ValueError) as error:
        raise SystemExit(f'Error: {error}')


def convert(args):
    """Convert, check and write the splits ``args`` names."""
    if not osp.isdir(args.voc_root):
        raise FileNotFoundError(
            f'VOC root is not a directory: {args.voc_root}')
    if args.classes_file:
        classes = load_class_names(args.classes_file)
    elif args.classes:
        classes = args.classes
    else:
        classes = collect_voc_classes(args.voc_root, args.splits)
    print(f'classes ({len(classes)}): {classes}')
    converted = []
    for split in args.splits:
        out_file = osp.join(args.out_dir, 'annotations',
                            f'{args.name_prefix}{split}.json')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always', VOCConversionWarning)
            coco = convert_voc_to_coco(
                args.voc_root,
                split,
                None,
                classes=classes,
                image_prefix=args.image_prefix)
        for w in caught:
            print(f'warning: {w.message}', file=sys.stderr)
        converted.append((split, out_file, coco, len(caught)))
    check_shared_classes(args.out_dir, args.name_prefix,
                         [out_file for _, out_file, _, _ in converted],
                         classes)
    if args.link_images:
        link = link_images(args.voc_root, args.out_dir, args.image_prefix)
    for split, out_file, coco, num_warnings in converted:
        os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
        with open(out_file, 'w', encoding='utf-8') as f:
            json.dump(coco, f)
        print(f'{split}: {len(coco["images"])} images, '
              f'{len(coco["annotations"])} boxes, {num_warnings} warnings '
              f'-> {out_file}')
    if args.link_images:
        print(f'images: {link} -> {os.readlink(link)}')


if __name__ == '__main__':
    main()
