"""A generated detection task large and hard enough for tiny models to
underfit: 24 classes told apart by shape, fill texture and colour, with
clutter, occlusion and a wide range of object sizes.

NetAug's premise is a tiny model that underfits *large* data. The cards
photographs (296 training images) and the quick start's three shapes are
small or easy; this generator makes, deterministically and without
downloads, as many images as asked (default 20,000 training and 1,000
validation images of 192x192, JPEG):

* classes ``<hue>_<fill>_<shape>``: 6 shapes (circle, square, triangle,
  diamond, star, cross) x 2 fills (solid, striped at a random angle and
  period) x 2 hue families (warm: reds, oranges, yellows, magentas; cool:
  greens, cyans, blues), saturated colours on a grey-ish textured
  background;
* 2-8 objects per image, sides 8%-60% of the image (log-uniform), rotated,
  overlapping (up to half of the smaller box): later objects occlude
  earlier ones, boxes are tight around the *visible* pixels, and objects
  with less than 30% visible are not annotated (they are what they look
  like: clutter);
* clutter: 2-7 unannotated irregular blobs and strokes in object colours
  (solid or striped), so colour and texture alone do not find objects.

Layout and behaviour (idempotent reuse, byte-for-byte determinism,
``meta.json`` written last) are those of
:func:`synthetic_shapes.make_synthetic_coco`.
"""
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np

from synthetic_shapes import (SPLITS, _check_count, _check_image_size,
                              _make_background, _mask_box, _overlap,
                              finish_generation, start_generation)

__all__ = ['HARD_SHAPES_CLASSES', 'make_hard_shapes_coco']

SHAPES = ('circle', 'square', 'triangle', 'diamond', 'star', 'cross')
FILLS = ('solid', 'striped')
HUES = ('warm', 'cool')
HARD_SHAPES_CLASSES = tuple(f'{hue}_{fill}_{shape}' for shape in SHAPES
                            for fill in FILLS for hue in HUES)
DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL = 20000, 1000
DEFAULT_IMAGE_SIZE = (192, 192)
GENERATOR_VERSION = 1
MIN_OBJECTS, MAX_OBJECTS = 2, 8
MIN_CLUTTER, MAX_CLUTTER = 2, 7
MIN_REL_SIZE, MAX_REL_SIZE = 0.08, 0.6
MAX_OVERLAP = 0.5
MIN_VISIBLE = 0.3
PLACEMENT_TRIES = 30
# OpenCV hue is 0-179: warm = red/orange/yellow and magenta, cool =
# green/cyan/blue (the two families do not touch)
HUE_RANGES = {'warm': ((0, 28), (155, 180)), 'cool': ((50, 125), )}


def _colour(rng: np.random.Generator, hue: str) -> Tuple[int, int, int]:
    """A saturated BGR colour of a hue family."""
    ranges = HUE_RANGES[hue]
    low, high = ranges[int(rng.integers(len(ranges)))]
    hsv = np.uint8([[[rng.integers(low, high), rng.integers(170, 256),
                      rng.integers(140, 256)]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def _polygon(shape: str, centre, radius: float, angle: float) -> np.ndarray:
    """Vertices of a regular shape (all but the circle)."""
    if shape == 'square':
        k, radii = 4, [radius]
        angle += np.pi / 4
    elif shape == 'diamond':  # a rhombus, longer along one axis
        k, radii = 4, [radius, radius * 0.6]
    elif shape == 'triangle':
        k, radii = 3, [radius]
    elif shape == 'star':
        k, radii = 10, [radius, radius * 0.45]
    else:  # cross: a plus sign of 12 vertices
        w = radius * 0.35
        pts = np.array([(w, radius), (w, w), (radius, w), (radius, -w),
                        (w, -w), (w, -radius), (-w, -radius), (-w, -w),
                        (-radius, -w), (-radius, w), (-w, w), (-w, radius)])
        rot = np.array([[np.cos(angle), -np.sin(angle)],
                        [np.sin(angle), np.cos(angle)]])
        return np.asarray(centre) + pts @ rot.T
    angles = angle + np.arange(k) * 2 * np.pi / k
    r = np.array([radii[i % len(radii)] for i in range(k)])
    return np.asarray(centre) + np.stack(
        [r * np.cos(angles), r * np.sin(angles)], axis=1)


def _shape_mask(height: int, width: int, shape: str, slot: Sequence[int],
                rng: np.random.Generator) -> np.ndarray:
    x, y, side, _ = slot
    mask = np.zeros((height, width), np.uint8)
    centre = (x + (side - 1) / 2, y + (side - 1) / 2)
    radius = (side - 1) / 2
    if shape == 'circle':
        cv2.circle(mask, (int(round(centre[0])), int(round(centre[1]))),
                   int(radius), 255, -1)
    else:
        pts = _polygon(shape, centre, radius, rng.uniform(0, 2 * np.pi))
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 255)
    return mask


def _blob_mask(height: int, width: int,
               rng: np.random.Generator) -> np.ndarray:
    """An irregular polygon or a thick stroke (clutter)."""
    mask = np.zeros((height, width), np.uint8)
    short = min(height, width)
    centre = rng.uniform(0, 1, 2) * (width, height)
    if rng.random() < 0.5:
        k = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = rng.uniform(0.03, 0.2, k) * short
        pts = centre + np.stack([radii * np.cos(angles),
                                 radii * np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 255)
    else:
        end = centre + rng.uniform(-0.4, 0.4, 2) * short
        cv2.line(mask, tuple(int(v) for v in centre),
                 tuple(int(v) for v in end), 255,
                 int(rng.integers(2, max(3, short // 20))))
    return mask


def _paint(canvas: np.ndarray, mask: np.ndarray, colour, fill: str,
           rng: np.random.Generator) -> None:
    """Paint ``mask`` solid or striped (colour and a darker shade)."""
    region = mask > 0
    colour = np.asarray(colour, np.float32)
    if fill == 'solid':
        canvas[region] = colour
        return
    height, width = mask.shape
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(4, 9)
    yy, xx = np.mgrid[0:height, 0:width]
    phase = (xx * np.cos(angle) + yy * np.sin(angle)) / period
    dark = (np.floor(phase) % 2).astype(bool)
    canvas[region & ~dark] = colour
    canvas[region & dark] = colour * 0.45


def _make_image(rng: np.random.Generator, height: int, width: int):
    """One image and its ``(label, [x, y, w, h])`` objects."""
    canvas = _make_background(rng, height, width)
    grey = canvas.mean(axis=2, keepdims=True)
    canvas = grey + 0.3 * (canvas - grey)  # low saturation background
    for _ in range(int(rng.integers(MIN_CLUTTER, MAX_CLUTTER + 1))):
        hue = HUES[int(rng.integers(2))]
        _paint(canvas, _blob_mask(height, width, rng), _colour(rng, hue),
               FILLS[int(rng.integers(2))], rng)
    short = min(height, width)
    slots, drawn = [], []
    for _ in range(int(rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1))):
        for _ in range(PLACEMENT_TRIES):
            side = int(round(short * np.exp(rng.uniform(
                np.log(MIN_REL_SIZE), np.log(MAX_REL_SIZE)))))
            side = max(side, 6)
            x = int(rng.integers(0, width - side + 1))
            y = int(rng.integers(0, height - side + 1))
            slot = [x, y, side, side]
            if all(_overlap(slot, s) <= MAX_OVERLAP for s in slots):
                break
        else:
            continue
        slots.append(slot)
        label = int(rng.integers(len(HARD_SHAPES_CLASSES)))
        hue, fill, shape = HARD_SHAPES_CLASSES[label].split('_')
        mask = _shape_mask(height, width, shape, slot, rng)
        _paint(canvas, mask, _colour(rng, hue), fill, rng)
        drawn.append((label, mask))
    objects = []
    covered = np.zeros((height, width), bool)
    for label, mask in reversed(drawn):  # later objects are on top
        full = mask > 0
        visible = full & ~covered
        covered |= full
        if full.sum() and visible.sum() >= MIN_VISIBLE * full.sum():
            box = _mask_box(visible.astype(np.uint8))
            if box[2] >= 2 and box[3] >= 2:
                objects.append((label, box))
    canvas += rng.normal(0, 5, size=canvas.shape)
    image = np.clip(canvas, 0, 255).round().astype(np.uint8)
    return image, objects[::-1]


def make_hard_shapes_coco(out_dir: str,
                          num_train: int = DEFAULT_NUM_TRAIN,
                          num_val: int = DEFAULT_NUM_VAL,
                          image_size: Union[int, Sequence[int]] = (
                              DEFAULT_IMAGE_SIZE),
                          seed: int = 0) -> Dict:
    """Generate (or reuse) the hard shapes dataset in COCO format (see the
    module's description); arguments and result as
    :func:`synthetic_shapes.make_synthetic_coco`'s. Images are JPEG
    (quality 95) to keep tens of thousands of them small."""
    num_train = _check_count('num_train', num_train)
    num_val = _check_count('num_val', num_val)
    height, width = _check_image_size(image_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or seed < 0:
        raise ValueError(f'seed should be a non-negative int, got {seed!r}')
    params = dict(generator='hard_shapes', generator_version=GENERATOR_VERSION,
                  num_train=num_train, num_val=num_val,
                  image_size=[height, width], seed=int(seed),
                  classes=list(HARD_SHAPES_CLASSES))
    done = start_generation(out_dir, params)
    if done is not None:
        return dict(done, generated=False, stale_removed=0)
    meta = dict(params=params, num_images={}, num_annotations={})
    categories = [dict(id=i + 1, name=name, supercategory='shape')
                  for i, name in enumerate(HARD_SHAPES_CLASSES)]
    listed: List[str] = []
    for split_idx, split in enumerate(SPLITS):
        images: List[dict] = []
        annotations: List[dict] = []
        for idx in range(params[f'num_{split}']):
            rng = np.random.default_rng([seed, 100 + split_idx, idx])
            image, objects = _make_image(rng, height, width)
            file_name = f'{split}_{idx:05d}.jpg'
            path = osp.join(out_dir, 'images', file_name)
            if not cv2.imwrite(path, image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise OSError(f'cv2.imwrite could not write {path}')
            images.append(dict(id=idx + 1, file_name=file_name,
                               width=width, height=height))
            for label, box in objects:
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=idx + 1,
                    category_id=label + 1, bbox=box, area=box[2] * box[3],
                    iscrowd=0))
        with open(osp.join(out_dir, 'annotations', f'{split}.json'), 'w',
                  encoding='utf-8') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)
        meta['num_images'][split] = len(images)
        meta['num_annotations'][split] = len(annotations)
        listed += [img['file_name'] for img in images]
    return finish_generation(out_dir, meta, listed)
