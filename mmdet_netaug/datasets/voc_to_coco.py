"""Convert a Pascal-VOC-style folder to COCO JSON.

Expected layout of ``voc_root``::

    voc_root/
        Annotations/<id>.xml
        JPEGImages/<id>.jpg           (any extension; see below)
        ImageSets/Main/<split>.txt    (one image id per line)

The box convention matches MMDetection's own converter
(``tools/dataset_converters/pascal_voc.py``) and ``XMLDataset``: VOC corner
coordinates are 1-based pixel indices, so 1 is subtracted from all four
corners, and the COCO box is ``[xmin - 1, ymin - 1, xmax - xmin,
ymax - ymin]``. Objects marked ``difficult`` are written with
``iscrowd=1`` (and ``ignore=0``), exactly as that converter does, so that
COCO evaluation ignores them.

Nothing is dropped silently: degenerate boxes are dropped and boxes that
reach outside the image are clipped, each with a :class:`VOCConversionWarning`
naming the XML file and the box; everything else that is malformed raises an
error naming the file or field.
"""
import json
import os
import os.path as osp
import warnings
import xml.etree.ElementTree as ET
from typing import List, Optional, Sequence, Tuple

from .box_rule import check_box

__all__ = [
    'VOCConversionWarning', 'collect_voc_classes', 'convert_voc_to_coco',
    'read_split_ids', 'parse_voc_xml', 'load_class_names'
]

ANNOTATION_DIR = 'Annotations'
SPLIT_DIR = osp.join('ImageSets', 'Main')


class VOCConversionWarning(UserWarning):
    """Warning for a box that was dropped or modified during conversion."""


def read_split_ids(voc_root: str, split: str) -> List[str]:
    """Read the image ids listed in ``ImageSets/Main/<split>.txt``.

    Only the first whitespace-separated token of each line is used (VOC
    per-class split files have a second ``1``/``-1`` column). Blank lines
    are skipped.

    Args:
        voc_root (str): Root of the VOC-style dataset.
        split (str): Split name, e.g. ``'train'``.

    Returns:
        list[str]: Image ids in file order.

    Raises:
        FileNotFoundError: If the split file does not exist.
        ValueError: If it lists no ids or lists an id twice.
    """
    split_file = osp.join(voc_root, SPLIT_DIR, f'{split}.txt')
    if not osp.isfile(split_file):
        raise FileNotFoundError(
            f'Split file for split "{split}" not found: {split_file} '
            f'(expected {SPLIT_DIR}/<split>.txt under the VOC root)')
    ids = []
    seen = set()
    with open(split_file, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            tokens = line.split()
            if not tokens:
                continue
            img_id = tokens[0]
            if img_id in seen:
                raise ValueError(f'Split file {split_file} lists image id '
                                 f'"{img_id}" twice (again on line '
                                 f'{line_no})')
            seen.add(img_id)
            ids.append(img_id)
    if not ids:
        raise ValueError(f'Split file {split_file} lists no image ids')
    return ids


def load_class_names(classes_file: str) -> List[str]:
    """Read class names from a text file, one name per line.

    Args:
        classes_file (str): Path of the text file. Blank lines are skipped.

    Returns:
        list[str]: Class names in file order.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it holds no names or a name twice.
    """
    if not osp.isfile(classes_file):
        raise FileNotFoundError(f'Classes file not found: {classes_file}')
    with open(classes_file, encoding='utf-8') as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise ValueError(f'Classes file {classes_file} holds no class names')
    return _check_classes(names, source=classes_file)


def _check_classes(classes: Sequence[str], source: str) -> List[str]:
    """Check that a class list is non-empty and free of duplicates."""
    classes = [str(c) for c in classes]
    if not classes:
        raise ValueError(f'Empty class list given ({source})')
    dup = sorted({c for c in classes if classes.count(c) > 1})
    if dup:
        raise ValueError(f'Duplicate class names {dup} in class list '
                         f'({source})')
    return classes


def _load_xml(xml_path: str) -> ET.Element:
    """Parse an annotation XML file and return its root element."""
    if not osp.isfile(xml_path):
        raise FileNotFoundError(f'Annotation file not found: {xml_path}')
    try:
        return ET.parse(xml_path).getroot()
    except ET.ParseError as e:
        raise ValueError(f'Cannot parse annotation XML {xml_path}: {e}') \
            from None


def _find_text(elem: ET.Element, tag: str, xml_path: str) -> str:
    """Return the stripped text of a required child element."""
    child = elem.find(tag)
    if child is None or child.text is None or not child.text.strip():
        raise ValueError(f'Annotation {xml_path}: missing or empty <{tag}> '
                         f'in <{elem.tag}>')
    return child.text.strip()


def _parse_number(elem: ET.Element, tag: str, xml_path: str) -> float:
    """Return the numeric value of a required child element."""
    text = _find_text(elem, tag, xml_path)
    try:
        return float(text)
    except ValueError:
        raise ValueError(f'Annotation {xml_path}: <{tag}> should be a '
                         f'number, got "{text}"') from None


def _parse_size(root: ET.Element, xml_path: str) -> Tuple[int, int]:
    """Return ``(width, height)`` from ``<size>``, or ``(0, 0)`` if absent.

    A missing or zero size is reported as 0 so that the caller can read the
    size from the image instead.
    """
    size = root.find('size')
    if size is None:
        return 0, 0
    dims = []
    for tag in ('width', 'height'):
        child = size.find(tag)
        if child is None or child.text is None or not child.text.strip():
            return 0, 0
        try:
            dims.append(int(float(child.text)))
        except ValueError:
            raise ValueError(f'Annotation {xml_path}: <size><{tag}> should '
                             f'be a number, got "{child.text}"') from None
    if dims[0] < 0 or dims[1] < 0:
        raise ValueError(f'Annotation {xml_path}: negative image size '
                         f'{dims[0]}x{dims[1]}')
    return dims[0], dims[1]


def parse_voc_xml(xml_path: str) -> dict:
    """Parse one VOC annotation XML file.

    Box corners are read as in MMDetection's ``XMLDataset``
    (``int(float(text))``) and are returned unchanged, i.e. still 1-based.

    Args:
        xml_path (str): Path of the XML file.

    Returns:
        dict: With keys ``filename`` (str or None, from ``<filename>``),
        ``width`` and ``height`` (int, 0 when ``<size>`` is missing or
        zero) and ``objects``, a list of dicts with ``name`` (str),
        ``difficult`` (int) and ``bbox`` (list of 4 ints,
        ``[xmin, ymin, xmax, ymax]``).

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the XML cannot be parsed or a required field is
            missing or not a number.
    """
    root = _load_xml(xml_path)
    filename = root.find('filename')
    filename = (filename.text.strip() if filename is not None
                and filename.text and filename.text.strip() else None)
    width, height = _parse_size(root, xml_path)
    objects = []
    for obj in root.findall('object'):
        name = _find_text(obj, 'name', xml_path)
        difficult = 0
        if (obj.findtext('difficult') or '').strip():
            difficult = int(_parse_number(obj, 'difficult', xml_path))
        bnd_box = obj.find('bndbox')
        if bnd_box is None:
            raise ValueError(f'Annotation {xml_path}: object "{name}" has '
                             'no <bndbox>')
        bbox = [
            int(_parse_number(bnd_box, tag, xml_path))
            for tag in ('xmin', 'ymin', 'xmax', 'ymax')
        ]
        objects.append(dict(name=name, difficult=difficult, bbox=bbox))
    return dict(
        filename=filename, width=width, height=height, objects=objects)


def collect_voc_classes(voc_root: str, splits: Sequence[str]) -> List[str]:
    """Collect the class names used in the annotations of some splits.

    Use the same class list for every split of one dataset, so that
    category ids agree between e.g. the train and the test JSON.

    Args:
        voc_root (str): Root of the VOC-style dataset.
        splits (Sequence[str]): Split names, e.g. ``['train', 'test']``.

    Returns:
        list[str]: Sorted class names found across the splits.

    Raises:
        ValueError: If no split is given or the splits hold no objects.
    """
    if isinstance(splits, str):
        splits = [splits]
    if not splits:
        raise ValueError('collect_voc_classes: no split names given')
    names = set()
    for split in splits:
        for img_id in read_split_ids(voc_root, split):
            xml_path = osp.join(voc_root, ANNOTATION_DIR, f'{img_id}.xml')
            names.update(obj['name']
                         for obj in parse_voc_xml(xml_path)['objects'])
    if not names:
        raise ValueError(f'No annotated objects found in splits '
                         f'{list(splits)} of {voc_root}; give the class '
                         'list explicitly')
    return sorted(names)


def _resolve_image(img_dir: str, img_id: str, xml_filename: Optional[str],
                   xml_path: str, files: Sequence[str]) -> str:
    """Find the image file of one annotation.

    Uses ``<filename>`` from the XML when that file exists in ``img_dir``,
    else the single file in ``img_dir`` named ``<img_id>.<ext>``.

    Returns:
        str: File name relative to ``img_dir``.
    """
    if xml_filename and osp.isfile(osp.join(img_dir, xml_filename)):
        return xml_filename
    candidates = sorted(
        f for f in files
        if osp.splitext(f)[0] == img_id and osp.isfile(osp.join(img_dir, f)))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise FileNotFoundError(
            f'No image found for annotation {xml_path}: neither '
            f'<filename> "{xml_filename}" nor "{img_id}.*" exists in '
            f'{img_dir}')
    raise ValueError(f'Ambiguous image for annotation {xml_path}: '
                     f'{candidates} in {img_dir} all match id "{img_id}"')


def _read_image_size(img_path: str, xml_path: str) -> Tuple[int, int]:
    """Read ``(width, height)`` from the image file itself."""
    import cv2
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
    classes = _check_classes(classes, source='classes argument')
    cat_ids = {name: i for i, name in enumerate(classes, 1)}
    files = os.listdir(img_dir)  # for images found by id, not <filename>

    images, annotations = [], []
    for img_idx, img_id in enumerate(read_split_ids(voc_root, split), 1):
        xml_path = osp.join(voc_root, ANNOTATION_DIR, f'{img_id}.xml')
        info = parse_voc_xml(xml_path)
        file_name = _resolve_image(img_dir, img_id, info['filename'],
                                   xml_path, files)
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
