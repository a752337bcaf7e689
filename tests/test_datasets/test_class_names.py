"""Labels follow class names: CheckedCocoDataset refuses annotation files
whose categories would shift labels, and the converter writes every class."""
import json
import warnings

import cv2
import numpy as np
import pytest
from mmdet.datasets import CocoDataset

from conftest import load_tool
from mmdet_netaug.datasets import CheckedCocoDataset
from mmdet_netaug.datasets.checked_coco import ClassMismatchWarning

converter = load_tool('tools/dataset_converters/voc_to_coco.py')
VOCConversionWarning = converter.VOCConversionWarning
convert_voc_to_coco = converter.convert_voc_to_coco

CLASSES = ('nine', 'ten', 'jack', 'queen', 'king', 'ace')


def write_coco(root, categories, boxes):
    """One 100x80 image; ``boxes`` are (category name, [x, y, w, h])."""
    (root / 'img').mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(root / 'img' / 'a.jpg'), np.zeros((80, 100, 3), np.uint8))
    ids = {name: i for i, name in enumerate(categories, 1)}
    coco = dict(
        images=[dict(id=1, file_name='a.jpg', width=100, height=80)],
        annotations=[
            dict(id=i, image_id=1, category_id=ids[name], bbox=box,
                 area=box[2] * box[3], iscrowd=0)
            for i, (name, box) in enumerate(boxes, 1)
        ],
        categories=[dict(id=i, name=n) for n, i in ids.items()])
    (root / 'ann.json').write_text(json.dumps(coco))
    return root


def dataset(root, cls=CheckedCocoDataset, classes=CLASSES):
    return cls(data_root=str(root), ann_file='ann.json',
               data_prefix=dict(img='img/'), metainfo=dict(classes=classes),
               pipeline=[], test_mode=True)


BOXES = [('king', [10, 10, 20, 20]), ('ace', [40, 40, 20, 20])]


def test_missing_classes_refused_by_name(tmp_path):
    # what voc_to_coco wrote for a split lacking some classes
    root = write_coco(tmp_path, ['ace', 'king', 'nine'], BOXES)
    # mmdet's own dataset shifts the labels without a word: king -> 1 (ten)
    labels = [i['bbox_label'] for i in dataset(root, CocoDataset)[0]
              ['instances']]
    assert labels == [1, 0]
    with pytest.raises(ValueError) as error:
        dataset(root)
    message = str(error.value)
    assert str(tmp_path / 'ann.json') in message
    assert "['ten', 'jack', 'queen']" in message
    assert '--classes' in message


def test_differently_spelled_class_named(tmp_path):
    root = write_coco(tmp_path, ['nine', 'ten', 'jack', 'queen', 'King',
                                 'ace'], BOXES[1:])
    with pytest.raises(ValueError, match="'king' is spelled 'King'"):
        dataset(root)


def test_other_order_refused(tmp_path):
    root = write_coco(tmp_path, ['ace', 'king', 'queen', 'jack', 'ten',
                                 'nine'], BOXES)
    with pytest.raises(ValueError, match="another order"):
        dataset(root)


def test_extra_file_categories_warn_and_labels_follow_names(tmp_path):
    root = write_coco(tmp_path, ['joker', *CLASSES],
                      BOXES + [('joker', [5, 5, 30, 30])])
    with pytest.warns(ClassMismatchWarning, match=r"\['joker'\]"):
        data = dataset(root)
    labels = [i['bbox_label'] for i in data[0]['instances']]
    assert labels == [CLASSES.index('king'), CLASSES.index('ace')]


def test_matching_file_is_quiet(tmp_path):
    root = write_coco(tmp_path, list(CLASSES), BOXES)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        data = dataset(root)
    assert [i['bbox_label'] for i in data[0]['instances']] == [4, 5]


def test_converter_writes_every_class_and_warns(cards_root, tmp_path):
    classes = [*CLASSES, 'joker']
    with pytest.warns(VOCConversionWarning, match=r"no boxes of the classes "
                      r"\['joker'\]"):
        coco = convert_voc_to_coco(str(cards_root), 'test', None,
                                   classes=classes)
    assert [c['name'] for c in coco['categories']] == classes
