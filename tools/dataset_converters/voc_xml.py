"""Reading a Pascal-VOC-style folder: split files, class lists and
annotation XML (used by voc_to_coco.py beside it).

Expected layout of ``voc_root``::

    voc_root/
        Annotations/<id>.xml
        JPEGImages/<id>.jpg           (any extension)
        ImageSets/Main/<split>.txt    (one image id per line)

Everything malformed raises an error naming the file or field.
"""
import os.path as osp
import re
import warnings
import xml.etree.ElementTree as ET
from typing import List, Sequence, Tuple

ANNOTATION_DIR = 'Annotations'
SPLIT_DIR = osp.join('ImageSets', 'Main')


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
    return check_classes(names, source=classes_file)


def check_classes(classes: Sequence[str], source: str) -> List[str]:
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
    first_seen = {}  # name -> the first annotation that uses it
    for split in splits:
        for img_id in read_split_ids(voc_root, split):
            xml_path = osp.join(voc_root, ANNOTATION_DIR, f'{img_id}.xml')
            for obj in parse_voc_xml(xml_path)['objects']:
                first_seen.setdefault(obj['name'], xml_path)
    if not first_seen:
        raise ValueError(f'No annotated objects found in splits '
                         f'{list(splits)} of {voc_root}; give the class '
                         'list explicitly')
    # "Dog" and "dog", "traffic light" and "traffic_light": one class
    # spelt two ways would become two
    spellings = {}
    for name in first_seen:
        key = re.sub(r'[\s_-]+', ' ', name.strip().casefold())
        spellings.setdefault(key, []).append(name)
    for names in spellings.values():
        if len(names) > 1:
            warnings.warn(
                f'{voc_root}: the class names {sorted(names)} differ only '
                'in case or separators and become separate classes (first '
                'used in ' + ', '.join(first_seen[n] for n in sorted(names))
                + '); if they are one class, rename them in the XML files',
                UserWarning, stacklevel=2)
    return sorted(first_seen)
