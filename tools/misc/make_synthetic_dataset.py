"""Generate the synthetic shapes detection dataset (COCO format).

Example::

    python tools/misc/make_synthetic_dataset.py --out data/synthetic

Does nothing if the folder already holds a complete dataset made with the
same parameters.
"""
import argparse

from mmdet_netaug.datasets.synthetic import (DEFAULT_IMAGE_SIZE,
                                             DEFAULT_NUM_TRAIN,
                                             DEFAULT_NUM_VAL,
                                             make_synthetic_coco)


def parse_args(argv=None):
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Generate a small COCO-format dataset of circles, '
        'squares and triangles')
    parser.add_argument(
        '--out', default='data/synthetic', help='output folder')
    parser.add_argument(
        '--num-train',
        type=int,
        default=DEFAULT_NUM_TRAIN,
        help='number of training images')
    parser.add_argument(
        '--num-val',
        type=int,
        default=DEFAULT_NUM_VAL,
        help='number of validation images')
    parser.add_argument(
        '--size',
        type=int,
        nargs='+',
        default=list(DEFAULT_IMAGE_SIZE),
        metavar='PIXELS',
        help='image size: one value for square images, or H W')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    args = parser.parse_args(argv)
    if len(args.size) not in (1, 2):
        parser.error(f'--size takes 1 or 2 values (H W), got {args.size}')
    return args


def main(argv=None):
    """Generate the dataset and print a summary."""
    args = parse_args(argv)
    size = args.size * 2 if len(args.size) == 1 else args.size
    meta = make_synthetic_coco(
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        image_size=tuple(size),
        seed=args.seed)
    state = 'generated' if meta['generated'] else 'already complete, reused'
    print(f'{args.out}: {state}')
    for split, num in meta['num_images'].items():
        print(f'  {split}: {num} images, '
              f'{meta["num_annotations"][split]} boxes '
              f'-> {args.out}/annotations/{split}.json')
    print(f'  classes: {meta["params"]["classes"]}')


if __name__ == '__main__':
    main()
