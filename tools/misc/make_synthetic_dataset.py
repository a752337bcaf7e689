"""Generate a synthetic detection dataset (COCO format).

Examples::

    python tools/misc/make_synthetic_dataset.py --out data/synthetic
    python tools/misc/make_synthetic_dataset.py --variant hard

``shapes`` (default): the quick start's 200 + 50 images of circles, squares
and triangles (data/synthetic). ``hard``: the underfitting benchmark, 24
classes (shape x fill texture x hue family) with clutter and occlusion,
20,000 + 1,000 images (data/hard_shapes; see
tools/misc/hard_shapes.py). Does nothing if the folder already
holds a complete dataset made with the same parameters; otherwise writes
it and deletes the generated images of an earlier generation that it does
not list. Refuses a folder that holds files but no generator's meta.json
(someone else's data), changing nothing.
"""
import argparse

import hard_shapes
import synthetic_shapes as synthetic

VARIANTS = {
    'shapes': (synthetic.make_synthetic_coco, 'data/synthetic',
               synthetic.DEFAULT_NUM_TRAIN, synthetic.DEFAULT_NUM_VAL,
               synthetic.DEFAULT_IMAGE_SIZE),
    'hard': (hard_shapes.make_hard_shapes_coco, 'data/hard_shapes',
             hard_shapes.DEFAULT_NUM_TRAIN, hard_shapes.DEFAULT_NUM_VAL,
             hard_shapes.DEFAULT_IMAGE_SIZE),
}


def count(text):
    """An image count: a positive int."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f'expected a positive number of images, got {text!r}')
    return int(text)


def seed(text):
    """A random seed: a non-negative int."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(
            f'expected a non-negative int, got {text!r}')
    return int(text)


def parse_args(argv=None):
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Generate a COCO-format synthetic detection dataset')
    parser.add_argument('--variant', choices=sorted(VARIANTS),
                        default='shapes',
                        help='shapes: the quick start\'s 3 classes; hard: '
                        'the 24-class underfitting benchmark')
    parser.add_argument('--out', help='output folder (default: '
                        'data/synthetic or data/hard_shapes)')
    parser.add_argument('--num-train', type=count,
                        help='number of training images (default: 200 or '
                        '20000)')
    parser.add_argument('--num-val', type=count,
                        help='number of validation images (default: 50 or '
                        '1000)')
    parser.add_argument(
        '--size', type=int, nargs='+', metavar='PIXELS',
        help='image size: one value for square images, or H W (default: '
        '160 or 192)')
    parser.add_argument('--seed', type=seed, default=0, help='random seed')
    args = parser.parse_args(argv)
    if args.size is not None and len(args.size) not in (1, 2):
        parser.error(f'--size takes 1 or 2 values (H W), got {args.size}')
    args.error = parser.error
    return args


def main(argv=None):
    """Generate the dataset and print a summary."""
    args = parse_args(argv)
    make, out, num_train, num_val, size = VARIANTS[args.variant]
    out = args.out or out
    if args.size is not None:
        size = args.size * 2 if len(args.size) == 1 else args.size
    try:
        meta = make(
            out,
            num_train=num_train if args.num_train is None else args.num_train,
            num_val=num_val if args.num_val is None else args.num_val,
            image_size=tuple(size),
            seed=args.seed)
    except ValueError as error:  # the size, or --out is not a dataset's
        args.error(str(error))
    state = 'generated' if meta['generated'] else 'already complete, reused'
    if meta['stale_removed']:
        state += (f'; {meta["stale_removed"]} images of an earlier '
                  'generation it does not list deleted')
    print(f'{out}: {state}')
    for split, num in meta['num_images'].items():
        print(f'  {split}: {num} images, '
              f'{meta["num_annotations"][split]} boxes '
              f'-> {out}/annotations/{split}.json')
    print(f'  classes: {meta["params"]["classes"]}')


if __name__ == '__main__':
    main()
