"""Convert a Pascal-VOC-style dataset to COCO JSON files.

Example::

    python tools/dataset_converters/voc_to_coco.py \
        ../shared/data/cards data/cards --splits train test --link-images

writes ``data/cards/annotations/{train,test}.json`` (one class list shared
by all splits) and links ``data/cards/JPEGImages`` to the VOC images, so a
config can use ``data_root='data/cards/'`` and
``data_prefix=dict(img='JPEGImages/')``.
"""
import argparse
import os
import os.path as osp
import sys
import warnings

from mmdet_netaug.datasets.voc_to_coco import (VOCConversionWarning,
                                               collect_voc_classes,
                                               convert_voc_to_coco,
                                               load_class_names)


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


def main(argv=None):
    """Run the conversion."""
    args = parse_args(argv)
    if args.classes_file:
        classes = load_class_names(args.classes_file)
    elif args.classes:
        classes = args.classes
    else:
        classes = collect_voc_classes(args.voc_root, args.splits)
    print(f'classes ({len(classes)}): {classes}')
    for split in args.splits:
        out_file = osp.join(args.out_dir, 'annotations',
                            f'{args.name_prefix}{split}.json')
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always', VOCConversionWarning)
            coco = convert_voc_to_coco(
                args.voc_root,
                split,
                out_file,
                classes=classes,
                image_prefix=args.image_prefix)
        for w in caught:
            print(f'warning: {w.message}', file=sys.stderr)
        print(f'{split}: {len(coco["images"])} images, '
              f'{len(coco["annotations"])} boxes, {len(caught)} warnings '
              f'-> {out_file}')
    if args.link_images:
        link = link_images(args.voc_root, args.out_dir, args.image_prefix)
        print(f'images: {link} -> {os.readlink(link)}')


if __name__ == '__main__':
    main()
