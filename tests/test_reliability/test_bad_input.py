"""Clear errors on bad input: unreadable images and invalid boxes in a COCO
file that did not come through the converter (real cards images)."""
import json
import shutil
import warnings

import cv2
import numpy as np
import pytest
from torch.utils.data import DataLoader

from conftest import load_config
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmdet_netaug.datasets import (CheckedCocoDataset, CorruptImageError,
                                   InvalidBoxWarning)

CATEGORIES = [dict(id=1, name='nine'), dict(id=2, name='ten')]
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs')
]


def _first_images(cards_coco, count):
    train = json.loads((cards_coco / 'annotations/train.json').read_text())
    return train['images'][:count]


def _write(path, images, annotations):
    path.write_text(
        json.dumps(
            dict(images=images, annotations=annotations,
                 categories=CATEGORIES)))
    return path


def _dataset(cls, root, ann_file, pipeline=(), **kwargs):
    kwargs.setdefault('filter_cfg', dict(filter_empty_gt=False))
    return cls(data_root=str(root),
               ann_file=str(ann_file),
               data_prefix=dict(img=''),
               metainfo=dict(classes=('nine', 'ten')),
               pipeline=list(pipeline),
               **kwargs)


@pytest.fixture
def bad_boxes(cards_coco, tmp_path):
    """One real image with a good box and one of each kind of bad box."""
    image = dict(_first_images(cards_coco, 1)[0], id=1)
    shutil.copy(cards_coco / 'JPEGImages' / image['file_name'], tmp_path)
    w, h = image['width'], image['height']
    boxes = {
        1: [10, 10, 50, 60],  # good
        2: [20, 20, 0, 30],  # zero width
        3: [20, 20, 0.5, 30],  # below a pixel
        4: [w + 10, 10, 30, 30],  # entirely outside
        5: [w - 20, h - 20, 50, 50],  # partly outside
        6: [-10, 5, 40, 40],  # partly outside (negative origin)
        7: [30, 30, 20, 20],  # unknown category
        8: [40, 40, 20, 20],  # area 0
    }
    annotations = [
        dict(id=i,
             image_id=1,
             category_id=99 if i == 7 else 1,
             bbox=b,
             area=0 if i == 8 else b[2] * b[3],
             iscrowd=0) for i, b in boxes.items()
    ]
    return dict(root=tmp_path,
                image=image,
                boxes=boxes,
                ann=_write(tmp_path / 'bad.json', [image], annotations))


def test_stock_coco_dataset_drops_and_keeps_bad_boxes_silently(bad_boxes):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        dataset = _dataset(CocoDataset, bad_boxes['root'], bad_boxes['ann'])
    assert not [w for w in caught if 'box' in str(w.message)]
    boxes = [i['bbox'] for i in dataset.get_data_info(0)['instances']]
    w, h = bad_boxes['image']['width'], bad_boxes['image']['height']
    assert len(boxes) == 3  # 5 of 8 dropped, without a word
    assert any(b[2] > w or b[3] > h or b[0] < 0 for b in boxes)  # unclipped


def test_checked_dataset_clips_and_drops_with_a_warning_naming_each(bad_boxes):
    with pytest.warns(InvalidBoxWarning) as caught:
        dataset = _dataset(CheckedCocoDataset, bad_boxes['root'],
                           bad_boxes['ann'])
    message = str(caught[0].message)
    image = str(bad_boxes['root'] / bad_boxes['image']['file_name'])
    w, h = bad_boxes['image']['width'], bad_boxes['image']['height']
    assert str(bad_boxes['ann']) in message
    assert '7 invalid boxes (4 dropped, 3 clipped or fixed)' in message
    for ann_id in range(2, 9):
        assert f'{image}: box {bad_boxes["boxes"][ann_id]} (annotation id ' \
               f'{ann_id})' in message
    assert 'zero or negative size; dropped' in message
    assert 'smaller than 1 pixel; dropped' in message
    assert f'entirely outside the {w}x{h} image; dropped' in message
    assert "category_id 99 is not among the file's categories" in message
    assert f'extends outside the {w}x{h} image; clipped to ' \
           f'[{float(w - 20)}, {float(h - 20)}, 20.0, 20.0]' in message
    assert 'area is 0; kept with area = w * h' in message
    boxes = [i['bbox'] for i in dataset.get_data_info(0)['instances']]
    assert boxes == [[10, 10, 60, 70], [w - 20.0, h - 20.0, w, h],
                     [0.0, 5.0, 30.0, 45.0], [40, 40, 60, 60]]
    assert len(dataset.box_problems) == 7


def test_checked_dataset_can_refuse_bad_boxes(bad_boxes):
    with pytest.raises(ValueError, match='7 invalid boxes') as error:
        _dataset(CheckedCocoDataset,
                 bad_boxes['root'],
                 bad_boxes['ann'],
                 invalid_boxes='error')
    assert bad_boxes['image']['file_name'] in str(error.value)
    with pytest.raises(ValueError, match='invalid_boxes'):
        _dataset(CheckedCocoDataset,
                 bad_boxes['root'],
                 bad_boxes['ann'],
                 invalid_boxes='ignore')


def test_checked_dataset_equals_coco_dataset_on_converted_cards(cards_coco):
    """Through the cards config's own train dataset (type switched)."""
    cfg = load_config('ssdlite_mbv2_w035_cards.py')
    dataset_cfg = cfg.train_dataloader.dataset.dataset
    dataset_cfg.data_root = str(cards_coco) + '/'
    stock = DATASETS.build(dataset_cfg)
    with warnings.catch_warnings():
        warnings.simplefilter('error', InvalidBoxWarning)
        checked = DATASETS.build(dict(dataset_cfg, type='CheckedCocoDataset'))
    assert checked.box_problems == []
    assert len(checked) == len(stock) > 0
    for i in range(len(stock)):
        assert checked.get_data_info(i) == stock.get_data_info(i)
    sample = checked[0]  # the real SSD training pipeline runs
    assert sample['data_samples'].gt_instances.bboxes.shape[0] > 0


@pytest.fixture
def bad_images(cards_coco, tmp_path):
    """Four real cards entries: a good image, an empty file, a truncated
    JPEG and a good one; ``missing_ann`` lists a fifth, missing, file."""
    images = [
        dict(im, id=i) for i, im in enumerate(_first_images(cards_coco, 4), 1)
    ]
    source = [cards_coco / 'JPEGImages' / im['file_name'] for im in images]
    shutil.copy(source[0], tmp_path)
    (tmp_path / images[1]['file_name']).write_bytes(b'')
    (tmp_path / images[2]['file_name']).write_bytes(
        source[2].read_bytes()[:1500])
    shutil.copy(source[3], tmp_path)
    annotations = [
        dict(id=i,
             image_id=i,
             category_id=1,
             bbox=[10, 10, 40, 40],
             area=1600,
             iscrowd=0) for i in range(1, 5)
    ]
    ann = _write(tmp_path / 'images.json', images, annotations)
    missing = dict(images[0], id=5, file_name='no_such_image.jpg')
    missing_ann = _write(tmp_path / 'missing.json', images + [missing],
                         annotations)
    return dict(root=tmp_path,
                ann=ann,
                missing_ann=missing_ann,
                paths=[str(tmp_path / im['file_name'])
                       for im in images + [missing]])


def test_mmcv_does_not_name_an_empty_image_file(bad_images):
    stock = _dataset(CocoDataset, bad_images['root'], bad_images['ann'],
                     PIPELINE)
    with pytest.raises(cv2.error) as error:
        stock[1]
    assert bad_images['paths'][1] not in str(error.value)


@pytest.mark.parametrize('index,detail', [(1, 'the file is empty'),
                                          (2, 'not a decodable image')])
def test_unreadable_image_error_names_the_file(bad_images, index, detail):
    dataset = _dataset(CheckedCocoDataset, bad_images['root'],
                       bad_images['ann'], PIPELINE)
    assert dataset[0]['inputs'].shape[0] == 3
    with pytest.raises(CorruptImageError) as error:
        dataset[index]
    message = str(error.value)
    assert f'Cannot read image {bad_images["paths"][index]}' in message
    assert detail in message and str(bad_images['ann']) in message


def test_missing_image_found_at_the_start(bad_images):
    # mmdet finds it only when the image is first read
    _dataset(CocoDataset, bad_images['root'], bad_images['missing_ann'],
             PIPELINE)
    with pytest.raises(FileNotFoundError) as error:
        _dataset(CheckedCocoDataset, bad_images['root'],
                 bad_images['missing_ann'], PIPELINE)
    message = str(error.value)
    assert bad_images['paths'][4] in message
    assert str(bad_images['missing_ann']) in message and '1 of its 5' in message


def test_swapped_image_size_names_the_file(bad_images):
    images = json.loads(bad_images['ann'].read_text())
    first = images['images'][0]
    first['width'], first['height'] = first['height'], first['width']
    ann = bad_images['root'] / 'swapped.json'
    ann.write_text(json.dumps(images))
    dataset = _dataset(CheckedCocoDataset, bad_images['root'], ann,
                       PIPELINE)
    with pytest.raises(ValueError) as error:
        dataset[0]
    message = str(error.value)
    assert bad_images['paths'][0] in message and str(ann) in message
    assert 'swapped' in message
    assert dataset[3]['inputs'].shape[0] == 3  # correct sizes pass


def test_unreadable_image_error_reaches_the_training_loop_from_a_worker(
        bad_images):
    dataset = _dataset(CheckedCocoDataset, bad_images['root'],
                       bad_images['ann'], PIPELINE)
    loader = DataLoader(dataset,
                        batch_size=1,
                        num_workers=1,
                        sampler=[1],
                        collate_fn=lambda batch: batch)
    with pytest.raises(CorruptImageError,
                       match=f'Cannot read image {bad_images["paths"][1]}'):
        next(iter(loader))


def test_a_box_with_two_problems_is_counted_once(bad_boxes):
    """Clipped and without an area: one invalid box, both reasons named."""
    image = bad_boxes['image']
    w, h = image['width'], image['height']
    ann = _write(bad_boxes['root'] / 'twice.json', [image], [
        dict(id=1, image_id=1, category_id=1, bbox=[w - 20, h - 20, 50, 50],
             area=0, iscrowd=0)
    ])
    with pytest.warns(InvalidBoxWarning) as caught:
        dataset = _dataset(CheckedCocoDataset, bad_boxes['root'], ann)
    message = str(caught[0].message)
    assert '1 invalid boxes (0 dropped, 1 clipped or fixed)' in message
    assert (f'extends outside the {w}x{h} image; area is 0; clipped to '
            f'[{float(w - 20)}, {float(h - 20)}, 20.0, 20.0], kept with area '
            '= w * h') in message
    assert len(dataset.box_problems) == 1
    assert dataset.get_data_info(0)['instances'][0]['bbox'] == [
        w - 20.0, h - 20.0, float(w), float(h)]


def test_converter_and_dataset_apply_one_box_rule():
    """The VOC converter drops and clips what CheckedCocoDataset would."""
    from mmdet_netaug.datasets.box_rule import check_box
    from conftest import load_tool
    _convert_box = load_tool('tools/dataset_converters/voc_to_coco.py')._convert_box
    cases = [[1, 1, 1, 20], [5, 5, 60, 40], [70, 5, 90, 30], [-4, 3, 20, 20],
             [10, 10, 80, 60], [64, 10, 65, 20]]
    for bbox in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            converted = _convert_box(bbox, 64, 48, 'a.xml')
        x1, y1 = bbox[0] - 1, bbox[1] - 1
        expected = check_box(float(x1), float(y1), float(bbox[2] - bbox[0]),
                             float(bbox[3] - bbox[1]), 64, 48)
        assert converted == expected.box, bbox
        assert bool(caught) == (expected.reason is not None), bbox


def test_an_image_left_without_boxes_by_the_check_is_filtered(tmp_path):
    """filter_empty_gt: mmdet leaves out images without annotations in the
    file; one whose every box the check dropped (here a box 1.2 pixels wide,
    0.7 of it inside the image, which mmdet would keep) goes too, said."""
    images = [dict(id=i, file_name=f'{i}.jpg', width=100, height=100)
              for i in (1, 2)]
    for image in images:
        cv2.imwrite(str(tmp_path / image['file_name']),
                    np.zeros((100, 100, 3), np.uint8))
    ann = _write(tmp_path / 'ann.json', images, [
        dict(id=1, image_id=1, category_id=1, bbox=[10, 10, 30, 30],
             area=900, iscrowd=0),
        dict(id=2, image_id=2, category_id=1, bbox=[-0.5, 10, 1.2, 30],
             area=36, iscrowd=0)])
    stock = _dataset(CocoDataset, tmp_path, ann,
                     filter_cfg=dict(filter_empty_gt=True))
    assert len(stock) == 2
    with pytest.warns(InvalidBoxWarning) as caught:
        checked = _dataset(CheckedCocoDataset, tmp_path, ann,
                           filter_cfg=dict(filter_empty_gt=True))
    assert [checked.get_data_info(i)['img_id'] for i in range(len(checked))
            ] == [1]
    assert any('1 images had only invalid boxes' in str(w.message)
               and '2.jpg' in str(w.message) for w in caught)
    # without filter_empty_gt the image stays (as background)
    with pytest.warns(InvalidBoxWarning):
        kept = _dataset(CheckedCocoDataset, tmp_path, ann)
    assert len(kept) == 2
