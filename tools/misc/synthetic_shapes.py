"""A small procedurally generated COCO-format detection dataset.

The quick start's default dataset: filled circles, squares and triangles in
random colours on noisy, textured backgrounds, generated with OpenCV (no
downloads). Generation is deterministic for a seed (same bytes every time)
and idempotent: a folder that already holds a complete dataset made with the
same parameters is reused as it is.

Layout of ``out_dir``::

    out_dir/
        images/train_00000.png ... images/val_00049.png
        annotations/train.json
        annotations/val.json
        meta.json                 (parameters; written last)
"""
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmdet_netaug.utils.records import read_json, write_json

__all__ = [
    'SYNTHETIC_CLASSES', 'DEFAULT_NUM_TRAIN', 'DEFAULT_NUM_VAL',
    'DEFAULT_IMAGE_SIZE', 'make_synthetic_coco', 'is_complete_synthetic_coco',
    'start_generation', 'finish_generation', 'remove_stale_images'
]

SYNTHETIC_CLASSES = ('circle', 'square', 'triangle')
DEFAULT_NUM_TRAIN = 200
DEFAULT_NUM_VAL = 50
DEFAULT_IMAGE_SIZE = (160, 160)  # (H, W)

#: Bump when the generator's output changes, so old folders get rebuilt.
GENERATOR_VERSION = 1
MIN_IMAGE_SIDE = 32
MIN_OBJECTS, MAX_OBJECTS = 1, 4
MIN_REL_SIZE, MAX_REL_SIZE = 0.15, 0.5  # object side / shorter image side
MAX_OVERLAP = 0.05  # intersection / area of the smaller box
PLACEMENT_TRIES = 50
MIN_COLOUR_DISTANCE = 90.0
SPLITS = ('train', 'val')
#: The names the generators (this one and hard_shapes) give their images.
GENERATED_IMAGE = re.compile(r'(train|val)_\d{5,}\.(png|jpg)')


def _check_image_size(image_size: Union[int, Sequence[int]]) -> Tuple[int,
                                                                      int]:
    """Normalise ``image_size`` to ``(H, W)`` and validate it."""
    if isinstance(image_size, (int, np.integer)):
        image_size = (image_size, image_size)
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError('image_size should be an int or a pair (H, W) of '
                         f'ints, got {image_size!r}') from None
    if min(height, width) < MIN_IMAGE_SIDE:
        raise ValueError(f'image_size should be at least {MIN_IMAGE_SIDE} '
                         f'pixels per side, got (H, W)=({height}, {width})')
    return height, width


def _check_count(name: str, value: int) -> int:
    """Validate an image count: a split has at least one image."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f'{name} should be a positive int, got {value!r}')
    return int(value)


def _make_background(rng: np.random.Generator, height: int,
                     width: int) -> np.ndarray:
    """Random base colour plus smooth colour texture plus pixel noise."""
    base = rng.uniform(40, 215, size=3)
    grid = rng.uniform(-45, 45, size=(rng.integers(3, 7), rng.integers(3, 7),
                                      3)).astype(np.float32)
    texture = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 10, size=(height, width, 3))
    return np.clip(base + texture + noise, 0, 255)


def _pick_colour(rng: np.random.Generator,
                 background: np.ndarray) -> Tuple[int, int, int]:
    """Pick a random colour that stands out from the background."""
    mean = background.reshape(-1, 3).mean(axis=0)
    best, best_dist = None, -1.0
    for _ in range(20):
        colour = rng.integers(0, 256, size=3)
        dist = float(np.linalg.norm(colour - mean))
        if dist > best_dist:
            best, best_dist = colour, dist
        if dist >= MIN_COLOUR_DISTANCE:
            break
    return tuple(int(c) for c in best)


def _overlap(a: Sequence[int], b: Sequence[int]) -> float:
    """Intersection of two ``[x, y, w, h]`` boxes over the smaller area."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / min(a[2] * a[3], b[2] * b[3])


def _place_box(rng: np.random.Generator, height: int, width: int,
               boxes: List[List[int]]) -> Optional[List[int]]:
    """Sample a square ``[x, y, s, s]`` slot that barely overlaps others."""
    short = min(height, width)
    for _ in range(PLACEMENT_TRIES):
        side = int(round(rng.uniform(MIN_REL_SIZE, MAX_REL_SIZE) * short))
        x = int(rng.integers(0, width - side + 1))
        y = int(rng.integers(0, height - side + 1))
        slot = [x, y, side, side]
        if all(_overlap(slot, b) <= MAX_OVERLAP for b in boxes):
            return slot
    return None


def _draw_shape(mask: np.ndarray, label: int, slot: Sequence[int],
                rng: np.random.Generator) -> None:
    """Draw a filled shape of class ``label`` inside ``slot`` into mask."""
    x, y, side, _ = slot
    if SYNTHETIC_CLASSES[label] == 'circle':
        radius = (side - 1) // 2
        cv2.circle(mask, (x + radius, y + radius), radius, 255, -1)
    elif SYNTHETIC_CLASSES[label] == 'square':
        cv2.rectangle(mask, (x, y), (x + side - 1, y + side - 1), 255, -1)
    else:  # triangle: random rotation, circumscribed by the slot
        angle = rng.uniform(0, 2 * np.pi)
        centre = np.array([x, y]) + (side - 1) / 2
        angles = angle + np.arange(3) * 2 * np.pi / 3
        pts = centre + (side - 1) / 2 * np.stack(
            [np.cos(angles), np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 255)


def _mask_box(mask: np.ndarray) -> List[int]:
    """Tight ``[x, y, w, h]`` box around the non-zero pixels of a mask."""
    ys, xs = np.nonzero(mask)
    x1, y1 = int(xs.min()), int(ys.min())
    return [x1, y1, int(xs.max()) - x1 + 1, int(ys.max()) - y1 + 1]


def _make_image(rng: np.random.Generator, height: int,
                width: int) -> Tuple[np.ndarray, List[Tuple[int, List[int]]]]:
    """Generate one image and its ``(label, [x, y, w, h])`` objects."""
    canvas = _make_background(rng, height, width)
    num_objects = int(rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1))
    slots, objects = [], []
    for _ in range(num_objects):
        slot = _place_box(rng, height, width, slots)
        if slot is None:  # image is full: keep the objects placed so far
            break
        slots.append(slot)
        label = int(rng.integers(len(SYNTHETIC_CLASSES)))
        mask = np.zeros((height, width), np.uint8)
        _draw_shape(mask, label, slot, rng)
        canvas[mask > 0] = _pick_colour(rng, canvas)
        objects.append((label, _mask_box(mask)))
    canvas += rng.normal(0, 4, size=canvas.shape)
    return np.clip(canvas, 0, 255).round().astype(np.uint8), objects


def _generate_split(out_dir: str, split_idx: int, split: str,
                    num_images: int, image_size: Tuple[int, int],
                    seed: int) -> dict:
    """Write the images of one split and return its COCO dict."""
    height, width = image_size
    images, annotations = [], []
    for idx in range(num_images):
        # One generator per image: image i does not depend on the counts.
        rng = np.random.default_rng([seed, split_idx, idx])
        img, objects = _make_image(rng, height, width)
        file_name = f'{split}_{idx:05d}.png'
        path = osp.join(out_dir, 'images', file_name)
        if not cv2.imwrite(path, img):
            raise OSError(f'cv2.imwrite could not write {path}')
        images.append(
            dict(id=idx + 1, file_name=file_name, width=width, height=height))
        for label, box in objects:
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=idx + 1,
                    category_id=label + 1,
                    bbox=box,
                    area=box[2] * box[3],
                    iscrowd=0))
    categories = [
        dict(id=i + 1, name=name, supercategory='shape')
        for i, name in enumerate(SYNTHETIC_CLASSES)
    ]
    return dict(
        images=images, annotations=annotations, categories=categories)


def _params(num_train: int, num_val: int, image_size: Tuple[int, int],
            seed: int) -> dict:
    """The parameters that identify one generated dataset."""
    return dict(
        generator_version=GENERATOR_VERSION,
        num_train=num_train,
        num_val=num_val,
        image_size=list(image_size),
        seed=seed,
        classes=list(SYNTHETIC_CLASSES))


def is_complete_synthetic_coco(out_dir: str, params: dict) -> bool:
    """Whether ``out_dir`` holds a complete dataset made with ``params``.

    Args:
        out_dir (str): Dataset folder.
        params (dict): Generation parameters, as stored in ``meta.json``.

    Returns:
        bool: True if ``meta.json`` matches ``params`` and both annotation
        files and every image they list exist.
    """
    meta = read_json(osp.join(out_dir, 'meta.json'))
    if meta is None or meta.get('params') != params or \
            meta.get('incomplete'):
        return False
    for split in SPLITS:
        coco = read_json(osp.join(out_dir, 'annotations', f'{split}.json'))
        if coco is None or len(coco.get('images', [])) != params[
                f'num_{split}']:
            return False
        if not all(
                osp.isfile(osp.join(out_dir, 'images', img['file_name']))
                for img in coco['images']):
            return False
    return True


def start_generation(out_dir: str, params: dict) -> Optional[dict]:
    """Begin writing a generated dataset to ``out_dir``, or find it done.

    Returns the ``meta.json`` of a complete dataset made with ``params``
    (nothing to do). Otherwise marks ``out_dir`` as being generated (its
    ``meta.json`` says ``incomplete``, so an interrupted run is never taken
    as complete) and returns None. A folder is only written to if it is
    new, empty, or holds a ``meta.json`` a generator wrote (complete or
    not): other files would be overwritten or deleted.

    Raises:
        ValueError: If ``out_dir`` is a file, or a folder with files and no
            generator's ``meta.json``; nothing is changed then.
    """
    if is_complete_synthetic_coco(out_dir, params):
        return read_json(osp.join(out_dir, 'meta.json'))
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise ValueError(f'{out_dir} is a file, not a dataset folder')
    meta_file = osp.join(out_dir, 'meta.json')
    old = read_json(meta_file)
    if osp.isdir(out_dir) and os.listdir(out_dir) and not (
            isinstance(old, dict) and isinstance(old.get('params'), dict)):
        raise ValueError(
            f'{out_dir} holds files but no meta.json of a dataset generator, '
            'so it is not a generated dataset: writing one there would '
            'overwrite or delete them. Choose a new or empty folder '
            '(nothing was changed).')
    os.makedirs(osp.join(out_dir, 'images'), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    write_json(meta_file, dict(params=params, incomplete=True))
    return None


def finish_generation(out_dir: str, meta: dict,
                      listed: Sequence[str]) -> dict:
    """Delete the images of an earlier generation that ``listed`` (the
    new annotations' file names) does not name, write ``meta.json`` (the
    dataset is complete) and return it with ``generated=True`` and
    ``stale_removed``."""
    stale = remove_stale_images(out_dir, listed)
    write_json(osp.join(out_dir, 'meta.json'), meta)
    return dict(meta, generated=True, stale_removed=stale)


def remove_stale_images(out_dir: str, listed: Sequence[str]) -> int:
    """Delete the generated images in ``out_dir/images`` that a dataset
    just written there does not list: those of an earlier generation with
    more images (or of the other generator). Only names a generator gives
    (:data:`GENERATED_IMAGE`) are touched; other files stay.

    Args:
        out_dir (str): Dataset folder.
        listed (Sequence[str]): The ``file_name`` of every image the new
            annotation files list.

    Returns:
        int: How many images were deleted.
    """
    image_dir = osp.join(out_dir, 'images')
    keep = set(listed)
    stale = [name for name in sorted(os.listdir(image_dir))
             if GENERATED_IMAGE.fullmatch(name) and name not in keep]
    for name in stale:
        os.remove(osp.join(image_dir, name))
    return len(stale)


def make_synthetic_coco(out_dir: str,
                        num_train: int = DEFAULT_NUM_TRAIN,
                        num_val: int = DEFAULT_NUM_VAL,
                        image_size: Union[int, Sequence[int]] = (
                            DEFAULT_IMAGE_SIZE),
                        seed: int = 0) -> Dict:
    """Generate (or reuse) the synthetic shapes dataset in COCO format.

    Each image holds 1-4 filled circles, squares or triangles (classes
    :data:`SYNTHETIC_CLASSES`, category ids 1-3) with sides of 15%-50% of
    the shorter image side and little overlap, on a noisy, textured
    background. Boxes are tight around the drawn pixels. The output is
    byte-for-byte deterministic for given parameters.

    Args:
        out_dir (str): Output folder; created if needed.
        num_train (int): Number of training images. Defaults to
            :data:`DEFAULT_NUM_TRAIN` (200).
        num_val (int): Number of validation images. Defaults to
            :data:`DEFAULT_NUM_VAL` (50).
        image_size (int | Sequence[int]): ``(H, W)``, or one int for square
            images. Defaults to :data:`DEFAULT_IMAGE_SIZE` (160, 160).
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: The contents of ``meta.json`` (``params`` and per-split
        ``num_images``/``num_annotations``) plus ``generated``: False when
        an existing complete dataset was reused, True when it was written
        now, and ``stale_removed``: how many images of an earlier
        generation that the new one does not list were deleted
        (:func:`remove_stale_images`).

    Raises:
        ValueError: If a count or the image size is invalid, or
            ``out_dir`` is not a folder a generator made
            (:func:`start_generation`).
        OSError: If an image cannot be written.
    """
    num_train = _check_count('num_train', num_train)
    num_val = _check_count('num_val', num_val)
    image_size = _check_image_size(image_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or seed < 0:
        raise ValueError(f'seed should be a non-negative int, got {seed!r}')
    params = _params(num_train, num_val, image_size, int(seed))
    done = start_generation(out_dir, params)
    if done is not None:
        return dict(done, generated=False, stale_removed=0)
    meta = dict(params=params, num_images={}, num_annotations={})
    listed = []
    for split_idx, split in enumerate(SPLITS):
        coco = _generate_split(out_dir, split_idx, split,
                               params[f'num_{split}'], image_size, seed)
        with open(
                osp.join(out_dir, 'annotations', f'{split}.json'),
                'w',
                encoding='utf-8') as f:
            json.dump(coco, f)
        meta['num_images'][split] = len(coco['images'])
        meta['num_annotations'][split] = len(coco['annotations'])
        listed += [img['file_name'] for img in coco['images']]
    return finish_generation(out_dir, meta, listed)
