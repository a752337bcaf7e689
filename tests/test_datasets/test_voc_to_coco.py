"""Tests for tools/dataset_converters/voc_to_coco.py and voc_xml.py."""
import contextlib
import io
import json
import os
import os.path as osp
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from conftest import load_tool

converter = load_tool('tools/dataset_converters/voc_to_coco.py')
VOCConversionWarning = converter.VOCConversionWarning
collect_voc_classes = converter.collect_voc_classes
convert_voc_to_coco = converter.convert_voc_to_coco
parse_voc_xml = converter.parse_voc_xml

REPO_ROOT = Path(__file__).resolve().parents[2]
CARDS_ROOT = (REPO_ROOT / '..' / 'shared' / 'data' / 'cards').resolve()
CARDS_CLASSES = ['ace', 'jack', 'king', 'nine', 'queen', 'ten']

needs_cards = pytest.mark.skipif(
    not (CARDS_ROOT / 'Annotations').is_dir(),
    reason=f'cards dataset not found at {CARDS_ROOT}')


def count_xml_objects(voc_root, split):
    """Count <object> elements of a split straight from the XML files."""
    ids = (Path(voc_root) / 'ImageSets' / 'Main' /
           f'{split}.txt').read_text().split()
    return sum(
        len(parse_voc_xml(str(Path(voc_root) / 'Annotations' /
                              f'{i}.xml'))['objects']) for i in ids)


@pytest.fixture(scope='module')
def cards_coco(tmp_path_factory):
    """Convert both cards splits once, via the CLI (with --link-images)."""
    if not (CARDS_ROOT / 'Annotations').is_dir():
        pytest.skip(f'cards dataset not found at {CARDS_ROOT}')
    out_dir = tmp_path_factory.mktemp('cards_coco')
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        converter.main([
            str(CARDS_ROOT),
            str(out_dir), '--splits', 'train', 'test', '--link-images'
        ])
    return out_dir, stdout.getvalue()


@needs_cards
def test_collect_cards_classes():
    assert collect_voc_classes(str(CARDS_ROOT),
                               ['train', 'test']) == CARDS_CLASSES


@needs_cards
def test_cards_conversion(cards_coco):
    out_dir, stdout = cards_coco
    assert str(CARDS_CLASSES) in stdout
    assert 'train: 296 images, 527 boxes, 0 warnings' in stdout
    assert 'test: 67 images, 143 boxes, 0 warnings' in stdout
    expected_images = {'train': 296, 'test': 67}
    total_boxes = 0
    for split, num_images in expected_images.items():
        ann_file = out_dir / 'annotations' / f'{split}.json'
        data = json.loads(ann_file.read_text())
        assert len(data['images']) == num_images
        assert [c['name'] for c in data['categories']] == CARDS_CLASSES
        assert [c['id'] for c in data['categories']] == list(range(1, 7))
        assert [img['id'] for img in data['images']] == list(
            range(1, num_images + 1))
        assert len(data['annotations']) == count_xml_objects(
            CARDS_ROOT, split)
        total_boxes += len(data['annotations'])
        sizes = {img['id']: (img['width'], img['height'])
                 for img in data['images']}
        for ann in data['annotations']:
            x, y, w, h = ann['bbox']
            width, height = sizes[ann['image_id']]
            assert w > 0 and h > 0
            assert 0 <= x and 0 <= y
            assert x + w <= width and y + h <= height
            assert ann['area'] == w * h
            assert ann['iscrowd'] == 0
        # the images are reachable through the linked folder
        for img in data['images']:
            assert (out_dir / 'JPEGImages' / img['file_name']).is_file()
        coco = COCO(str(ann_file))
        assert len(coco.getImgIds()) == num_images
        assert len(coco.getCatIds()) == 6
    assert total_boxes == 670
    link = out_dir / 'JPEGImages'
    assert link.is_symlink()
    assert os.readlink(link) == str(CARDS_ROOT / 'JPEGImages')


@needs_cards
def test_cards_box_convention_matches_mmdet(cards_coco):
    # IMG_2383.xml: ace at (xmin, ymin, xmax, ymax) = (97, 136, 275, 368).
    # mmdet's pascal_voc.py subtracts 1 from all corners, w = x2 - x1.
    out_dir, _ = cards_coco
    data = json.loads((out_dir / 'annotations' / 'test.json').read_text())
    img = next(i for i in data['images'] if i['file_name'] == 'IMG_2383.jpg')
    assert (img['width'], img['height']) == (378, 504)
    anns = [a for a in data['annotations'] if a['image_id'] == img['id']]
    assert [a['bbox'] for a in anns] == [[96, 135, 178, 232]]
    assert data['categories'][anns[0]['category_id'] - 1]['name'] == 'ace'


@needs_cards
def test_perfect_detections_give_ap_1(cards_coco):
    out_dir, _ = cards_coco
    gt = COCO(str(out_dir / 'annotations' / 'test.json'))
    dets = [
        dict(
            image_id=a['image_id'],
            category_id=a['category_id'],
            bbox=a['bbox'],
            score=1.0) for a in gt.dataset['annotations']
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(dets), 'bbox')
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)  # AP@[.5:.95]
    assert evaluator.stats[1] == pytest.approx(1.0)  # AP@.5


# ---------------------------------------------------------------- bad input
def write_xml(path, filename, objects, size=(100, 80)):
    """Write a VOC XML file; objects are (name, (x1, y1, x2, y2), diff)."""
    size_xml = '' if size is None else (
        f'<size><width>{size[0]}</width><height>{size[1]}</height>'
        '<depth>3</depth></size>')
    objs = ''.join(
        f'<object><name>{name}</name><difficult>{diff}</difficult><bndbox>'
        f'<xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>'
        f'<ymax>{b[3]}</ymax></bndbox></object>'
        for name, b, diff in objects)
    path.write_text(f'<annotation><filename>{filename}</filename>{size_xml}'
                    f'{objs}</annotation>')


def make_voc(root, images, split='train'):
    """Create a small VOC folder: images maps id -> (objects, ext, size)."""
    for sub in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for img_id, (objects, ext, size) in images.items():
        cv2.imwrite(
            str(root / 'JPEGImages' / f'{img_id}{ext}'),
            np.zeros((80, 100, 3), np.uint8))
        write_xml(root / 'Annotations' / f'{img_id}.xml', f'{img_id}.jpg',
                  objects, size)
    (root / 'ImageSets' / 'Main' / f'{split}.txt').write_text(
        '\n'.join(images) + '\n')
    return root


def test_bad_boxes_dropped_or_clipped_with_warnings(tmp_path):
    root = make_voc(
        tmp_path / 'voc', {
            'a': ([('cat', (11, 21, 40, 60), 0), ('cat', (30, 30, 30, 50), 0),
                   ('dog', (51, 41, 130, 90), 0),
                   ('dog', (5, 5, 20, 20), 1)], '.jpg', (100, 80)),
        })
    xml = str(root / 'Annotations' / 'a.xml')
    with pytest.warns(VOCConversionWarning) as record:
        coco = convert_voc_to_coco(
            str(root), 'train', str(tmp_path / 'out' / 'train.json'))
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert xml in messages[0] and '(30, 30, 30, 50)' in messages[0]
    assert 'dropping' in messages[0]
    assert xml in messages[1] and '(51, 41, 130, 90)' in messages[1]
    assert 'clipping' in messages[1]
    assert [c['name'] for c in coco['categories']] == ['cat', 'dog']
    boxes = [a['bbox'] for a in coco['annotations']]
    assert boxes == [[10, 20, 29, 39], [50, 40, 50, 40], [4, 4, 15, 15]]
    assert [a['iscrowd'] for a in coco['annotations']] == [0, 0, 1]
    # written file matches the returned dict and loads with pycocotools
    assert json.loads((tmp_path / 'out' / 'train.json').read_text()) == coco
    assert len(COCO(str(tmp_path / 'out' / 'train.json')).getAnnIds()) == 3


def test_missing_size_and_other_extension(tmp_path):
    # no <size>: read from the image; <filename> says .jpg, file is .png
    root = make_voc(tmp_path / 'voc',
                    {'b': ([('cat', (1, 1, 10, 10), 0)], '.png', None)})
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        coco = convert_voc_to_coco(str(root), 'train', None)
    assert coco['images'] == [
        dict(id=1, file_name='b.png', width=100, height=80)
    ]


def test_the_id_names_the_image_not_a_stale_filename(tmp_path):
    """An XML whose <filename> names another existing image (copied from
    that image's XML, or files renamed after labelling) puts its boxes on
    the image of its id, as mmdet's VOC datasets do, and says so; two
    annotations of one image are refused (an id listed twice too)."""
    root = make_voc(tmp_path / 'voc', {
        'a': ([('cat', (1, 1, 10, 10), 0)], '.jpg', (100, 80)),
        'b': ([('dog', (5, 5, 30, 30), 0)], '.jpg', (100, 80))})
    b_xml = root / 'Annotations' / 'b.xml'
    write_xml(b_xml, 'a.jpg', [('dog', (5, 5, 30, 30), 0)])
    with pytest.warns(VOCConversionWarning,
                      match=r'b\.xml: <filename> "a\.jpg" is another image '
                      r'than the one its id names, "b\.jpg"'):
        coco = convert_voc_to_coco(str(root), 'train', None)
    assert [im['file_name'] for im in coco['images']] == ['a.jpg', 'b.jpg']
    assert [a['category_id'] for a in coco['annotations']] == [1, 2]

    # no image of its id: <filename> names it, and then it is a's twice
    (root / 'JPEGImages' / 'b.jpg').unlink()
    with pytest.raises(ValueError, match=r'a\.xml and .*b\.xml both '
                       r'describe the image .*a\.jpg'):
        convert_voc_to_coco(str(root), 'train', None)
    (root / 'ImageSets' / 'Main' / 'train.txt').write_text('a\na\n')
    with pytest.raises(ValueError, match='lists image id "a" twice'):
        convert_voc_to_coco(str(root), 'train', None)


def test_class_names_spelt_two_ways_are_warned_about(tmp_path):
    """Without --classes the class list is the names found: "Cat" and
    "cat" (or "traffic light" and "traffic_light") would be two classes;
    the converter says so, naming where each is first used."""
    root = make_voc(tmp_path / 'voc', {
        'a': ([('Cat', (1, 1, 10, 10), 0)], '.jpg', (100, 80)),
        'b': ([('cat', (1, 1, 10, 10), 0), ('dog', (5, 5, 9, 9), 0)],
              '.jpg', (100, 80))})
    with pytest.warns(UserWarning, match=r"\['Cat', 'cat'\] differ only "
                      r'in case.*a\.xml, .*b\.xml') as record:
        assert collect_voc_classes(str(root), ['train']) == ['Cat', 'cat',
                                                             'dog']
    assert len(record) == 1
    write_xml(root / 'Annotations' / 'a.xml', 'a.jpg',
              [('dog', (1, 1, 10, 10), 0)])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert collect_voc_classes(str(root), ['train']) == ['cat', 'dog']


def test_missing_split_file(tmp_path):
    root = make_voc(tmp_path / 'voc', {'a': ([], '.jpg', (100, 80))})
    split_file = osp.join(str(root), 'ImageSets', 'Main', 'val.txt')
    with pytest.raises(FileNotFoundError, match=split_file):
        convert_voc_to_coco(str(root), 'val', None, classes=['cat'])
    with pytest.raises(FileNotFoundError, match=split_file):
        collect_voc_classes(str(root), ['train', 'val'])


def test_unknown_class_with_explicit_classes(tmp_path):
    root = make_voc(tmp_path / 'voc',
                    {'a': ([('zebra', (1, 1, 10, 10), 0)], '.jpg', (100, 80))})
    xml = str(root / 'Annotations' / 'a.xml')
    with pytest.raises(ValueError) as err:
        convert_voc_to_coco(
            str(root), 'train', None, classes=['cat', 'dog'])
    assert xml in str(err.value) and '"zebra"' in str(err.value)


def test_missing_and_broken_xml(tmp_path):
    root = make_voc(tmp_path / 'voc', {
        'a': ([], '.jpg', (100, 80)),
        'b': ([], '.jpg', (100, 80))
    })
    (root / 'Annotations' / 'b.xml').write_text('<annotation><size>')
    with pytest.raises(ValueError, match='Cannot parse.*b.xml'):
        convert_voc_to_coco(str(root), 'train', None, classes=['cat'])
    (root / 'Annotations' / 'b.xml').unlink()
    with pytest.raises(FileNotFoundError, match='b.xml'):
        convert_voc_to_coco(str(root), 'train', None, classes=['cat'])


def test_missing_image_and_bad_field(tmp_path):
    root = make_voc(tmp_path / 'voc',
                    {'a': ([('cat', (1, 1, 'ten', 10), 0)], '.jpg', None)})
    with pytest.raises(ValueError, match=r'a\.xml.*<xmax>.*"ten"'):
        convert_voc_to_coco(str(root), 'train', None, classes=['cat'])
    write_xml(root / 'Annotations' / 'a.xml', 'a.jpg',
              [('cat', (1, 1, 10, 10), 0)])
    (root / 'JPEGImages' / 'a.jpg').unlink()
    with pytest.raises(FileNotFoundError, match=r'No image found.*a\.xml'):
        convert_voc_to_coco(str(root), 'train', None, classes=['cat'])


def test_cli_classes_file(tmp_path, capsys):
    root = make_voc(tmp_path / 'voc',
                    {'a': ([('dog', (1, 1, 10, 10), 0)], '.jpg', (100, 80))})
    classes_file = tmp_path / 'classes.txt'
    classes_file.write_text('dog\ncat\n')
    converter.main([
        str(root),
        str(tmp_path / 'out'), '--splits', 'train', '--classes-file',
        str(classes_file)
    ])
    assert "['dog', 'cat']" in capsys.readouterr().out
    data = json.loads((tmp_path / 'out' / 'annotations' /
                       'train.json').read_text())
    assert data['categories'][1] == dict(
        id=2, name='cat', supercategory='none')
    assert data['annotations'][0]['category_id'] == 1


def _tree(root):
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(Path(root).rglob('*')) if p.is_file()}


def test_cli_refuses_a_split_with_another_class_list(tmp_path, capsys):
    root = make_voc(tmp_path / 'voc',
                    {'a': ([('cat', (1, 1, 10, 10), 0)], '.jpg', (100, 80)),
                     'b': ([('dog', (1, 1, 10, 10), 0)], '.jpg', (100, 80))})
    (root / 'ImageSets' / 'Main' / 'test.txt').write_text('b\n')
    out = tmp_path / 'out'
    converter.main([str(root), str(out), '--splits', 'train', 'test'])
    before = _tree(out)
    # test alone finds only 'dog': its id 1 would be train's 'cat'
    with pytest.raises(SystemExit) as exit_:
        converter.main([str(root), str(out), '--splits', 'test'])
    message = str(exit_.value)
    assert message.startswith('Error: ') and '\n' not in message
    assert str(out / 'annotations' / 'train.json') in message
    assert "['cat', 'dog']" in message and "['dog']" in message
    assert _tree(out) == before
    # the same class list is accepted, and a file with another prefix
    # is another dataset's
    converter.main([str(root), str(out), '--splits', 'test', '--classes',
                    'cat', 'dog'])
    converter.main([str(root), str(out), '--splits', 'test',
                    '--name-prefix', 'b_'])
    assert json.loads((out / 'annotations' / 'b_test.json').read_text())[
        'categories'] == [dict(id=1, name='dog', supercategory='none')]


def test_cli_errors_are_one_line_and_write_nothing(tmp_path):
    root = make_voc(tmp_path / 'voc',
                    {'a': ([('cat', (1, 1, 10, 10), 0)], '.jpg', (100, 80))})
    (root / 'ImageSets' / 'Main' / 'test.txt').write_text('a\nzz\n')
    out = tmp_path / 'out'
    cases = [
        ([str(tmp_path / 'nope'), str(out)],
         f'VOC root is not a directory: {tmp_path / "nope"}'),
        ([str(root), str(out), '--splits', 'trian'], 'trian.txt'),
        ([str(root), str(out), '--classes', 'dog'], 'is not in the class'),
        ([str(root), str(out), '--classes-file', str(tmp_path / 'c.txt')],
         'Classes file not found'),
        # train converts; test then misses zz.xml: train is not written
        ([str(root), str(out), '--splits', 'train', 'test'], 'zz.xml'),
    ]
    for argv, expected in cases:
        with pytest.raises(SystemExit) as exit_:
            converter.main(argv)
        message = str(exit_.value)
        assert message.startswith('Error: ') and expected in message, argv
        assert not out.exists(), argv
    # a real folder where the image link would go: refused before writing
    (out / 'JPEGImages').mkdir(parents=True)
    with pytest.raises(SystemExit, match='is not a symlink'):
        converter.main([str(root), str(out), '--splits', 'train',
                        '--link-images'])
    assert not (out / 'annotations').exists()
