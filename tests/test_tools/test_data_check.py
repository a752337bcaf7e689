"""Tests for ``check_dataset_paths`` and the fail-fast path of tools/train.py."""
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
from mmengine.config import Config

from mmdet_netaug.utils import check_dataset_paths

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def coco_dataset(root, split='train2017', ann='instances_train2017.json'):
    return dict(type='CocoDataset', data_root=root,
                ann_file=f'annotations/{ann}', data_prefix=dict(img=f'{split}/'),
                backend_args=None)


def make_coco_layout(root):
    """data/coco-like tree with the files CocoDataset needs (empty is fine)."""
    for d in ('annotations', 'train2017', 'val2017'):
        os.makedirs(osp.join(root, d), exist_ok=True)
    for f in ('instances_train2017.json', 'instances_val2017.json'):
        open(osp.join(root, 'annotations', f), 'w').close()


def coco_cfg(root, train_dataset=None):
    val = coco_dataset(root, 'val2017', 'instances_val2017.json')
    return Config(dict(
        train_dataloader=dict(batch_size=2, dataset=train_dataset or coco_dataset(root)),
        val_dataloader=dict(batch_size=1, dataset=val),
        test_dataloader=dict(batch_size=1, dataset=val),
        val_evaluator=dict(type='CocoMetric',
                           ann_file=osp.join(root, 'annotations/instances_val2017.json')),
        test_evaluator=[dict(type='CocoMetric', ann_file=None)]))


def test_complete_layout_passes(tmp_path):
    root = str(tmp_path / 'coco') + '/'
    make_coco_layout(root)
    check_dataset_paths(coco_cfg(root))  # no exception


def test_missing_ann_and_images_in_one_error(tmp_path):
    root = str(tmp_path / 'coco') + '/'
    make_coco_layout(root)
    os.remove(osp.join(root, 'annotations', 'instances_train2017.json'))
    os.rmdir(osp.join(root, 'train2017'))
    with pytest.raises(FileNotFoundError) as exc:
        check_dataset_paths(coco_cfg(root))
    msg = str(exc.value)
    assert 'train_dataloader.dataset.ann_file' in msg
    assert osp.join(root, 'annotations/instances_train2017.json') in msg
    assert 'train_dataloader.dataset.data_prefix.img' in msg
    assert osp.join(root, 'train2017/') in msg
    assert 'val_dataloader' not in msg  # present parts are not reported
    assert 'cocodataset.org' in msg and 'README' in msg


def test_wrappers_are_walked(tmp_path):
    root = str(tmp_path / 'coco') + '/'
    make_coco_layout(root)
    bad = coco_dataset(str(tmp_path / 'nowhere') + '/')
    train = dict(type='RepeatDataset', times=2, dataset=dict(
        type='ConcatDataset', datasets=[coco_dataset(root), bad]))
    with pytest.raises(FileNotFoundError) as exc:
        check_dataset_paths(coco_cfg(root, train))
    msg = str(exc.value)
    assert 'train_dataloader.dataset.dataset.datasets.1.ann_file' in msg
    assert 'train_dataloader.dataset.dataset.datasets.1.data_prefix.img' in msg
    assert 'datasets.0' not in msg
    # the fields are valid --cfg-options keys
    cfg = coco_cfg(root, train)
    cfg.merge_from_dict({'train_dataloader.dataset.dataset.datasets.1.data_root': root})
    check_dataset_paths(cfg)


def test_missing_metric_ann_file(tmp_path):
    root = str(tmp_path / 'coco') + '/'
    make_coco_layout(root)
    cfg = coco_cfg(root)
    cfg.test_evaluator = [dict(type='CocoMetric', ann_file=str(tmp_path / 'gt.json')),
                          dict(type='CocoMetric', ann_file=None)]
    with pytest.raises(FileNotFoundError) as exc:
        check_dataset_paths(cfg)
    assert f"test_evaluator.0.ann_file: {tmp_path / 'gt.json'}" in str(exc.value)
    check_dataset_paths(cfg, splits=('train', 'val'))  # test split not checked


def test_voc_and_generic_hints_and_remote_paths(tmp_path):
    voc = dict(type='VOCDataset', data_root=str(tmp_path) + '/',
               ann_file='VOC2007/ImageSets/Main/test.txt',
               data_prefix=dict(sub_data_root='VOC2007/'))
    cfg = Config(dict(test_dataloader=dict(dataset=voc), train_dataloader=None))
    with pytest.raises(FileNotFoundError) as exc:
        check_dataset_paths(cfg)
    msg = str(exc.value)
    assert 'test_dataloader.dataset.data_prefix.sub_data_root' in msg
    assert 'VOCdevkit' in msg and 'cocodataset.org' not in msg

    other = dict(type='MyDataset', data_root=str(tmp_path / 'x'), ann_file='a.json',
                 data_prefix=dict(img='imgs/'))
    with pytest.raises(FileNotFoundError) as exc:
        check_dataset_paths(Config(dict(test_dataloader=dict(dataset=other))))
    assert '--cfg-options test_dataloader.dataset.data_root=' in str(exc.value)

    remote = dict(other, data_root='s3://bucket/data/')
    check_dataset_paths(Config(dict(test_dataloader=dict(dataset=remote))))


def test_train_tool_fails_fast_on_missing_data(tmp_path):
    missing_root = str(tmp_path / 'no_such_data') + '/'
    config = tmp_path / 'ssdlite_missing_data.py'
    config.write_text(
        "_base_ = 'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'\n"
        f"data_root = {missing_root!r}\n"
        "train_dataloader = dict(dataset=dict(dataset=dict(data_root=data_root)))\n"
        "val_dataloader = dict(dataset=dict(data_root=data_root))\n"
        "test_dataloader = val_dataloader\n"
        "val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')\n"
        "test_evaluator = val_evaluator\n")
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, osp.join('tools', 'train.py'), str(config),
         '--work-dir', str(tmp_path / 'work')],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert time.monotonic() - start < 60, 'train.py should stop before building the runner'
    assert proc.returncode != 0, out
    assert missing_root + 'annotations/instances_train2017.json' in out, out
    assert 'README' in out
    assert 'Traceback' not in out


def test_metric_reading_another_annotation_file(tmp_path):
    """Moving a split's data with data_root alone leaves CocoMetric scoring
    against the old file: refused, naming both fields."""
    old = str(tmp_path / 'old') + '/'
    new = str(tmp_path / 'new') + '/'
    make_coco_layout(old)
    make_coco_layout(new)
    cfg = coco_cfg(old)
    check_dataset_paths(cfg)  # metric and dataloader agree
    cfg.merge_from_dict({'val_dataloader.dataset.data_root': new})
    with pytest.raises(ValueError) as exc:
        check_dataset_paths(cfg)
    msg = str(exc.value)
    assert 'val_evaluator.ann_file: ' + osp.join(
        old, 'annotations/instances_val2017.json') in msg
    assert 'val_dataloader.dataset.ann_file' in msg
    assert osp.join(new, 'annotations/instances_val2017.json') in msg
    # with both fields set it passes
    cfg.merge_from_dict({'val_evaluator.ann_file': osp.join(
        new, 'annotations/instances_val2017.json')})
    check_dataset_paths(cfg)


def test_cards_hint_says_to_convert(repo, tmp_path):
    cfg = Config.fromfile(str(repo / 'configs' / 'ssdlite_mbv2_w035_cards.py'))
    missing = str(tmp_path / 'cards') + '/'
    cfg.merge_from_dict({'train_dataloader.dataset.dataset.data_root':
                         missing})
    with pytest.raises(FileNotFoundError) as exc:
        check_dataset_paths(cfg, splits=('train', ))
    msg = str(exc.value)
    assert 'voc_to_coco.py ../shared/data/cards' in msg
    assert 'cocodataset.org' not in msg


@pytest.mark.parametrize('config,command', [
    ('ssdlite_mbv2_w035_synthetic.py', 'make_synthetic_dataset.py'),
    ('ssdlite_mbv2_w035_hardshapes.py',
     'make_synthetic_dataset.py --variant hard')])
def test_generated_data_hint_says_to_generate(repo, tmp_path, config,
                                              command):
    cfg = Config.fromfile(str(repo / 'configs' / config))
    root = str(tmp_path / cfg.data_root)
    cfg.merge_from_dict({'train_dataloader.dataset.dataset.data_root': root})
    with pytest.raises(FileNotFoundError) as exc:
        check_dataset_paths(cfg, splits=('train', ))
    assert f'python tools/misc/{command} (data/' in str(exc.value)


def test_class_lists_must_agree_and_fit_the_head(tmp_path):
    """A class left out of (or reordered in) one split's metainfo only
    makes a label mean another class in training than in validation; a
    head with more outputs trains classes that do not exist. mmdet's
    NumClassCheckHook is missing from the YOLOv3 / RTMDet / YOLOX configs,
    and these trained silently."""
    from mmdet.utils import register_all_modules

    from mmdet_netaug.utils import check_class_lists, load_config
    register_all_modules()
    config = osp.join(REPO, 'configs', 'netaug_yolov3_mbv2_cards.py')
    train = 'train_dataloader.dataset.dataset.metainfo.classes'
    check_class_lists(load_config(config))
    for classes in (('ten', 'jack', 'queen', 'king', 'ace'),
                    ('ten', 'nine', 'jack', 'queen', 'king', 'ace')):
        with pytest.raises(ValueError) as exc:
            check_class_lists(load_config(config, {train: classes}))
        message = str(exc.value)
        assert f'{train}: {list(classes)}' in message
        assert "val_dataloader.dataset.metainfo.classes: ['nine', 'ten'," \
            in message
    with pytest.raises(ValueError, match=r'model.detector.bbox_head.'
                       r'num_classes is 7, but .* has 6 classes'):
        check_class_lists(load_config(
            config, {'model.detector.bbox_head.num_classes': 7}))
    # a dataset without metainfo names its labels with its type's classes
    check_class_lists(load_config(
        osp.join(REPO, 'configs', 'ssdlite_mbv2_w035_coco.py')))
    # the tools' data check includes it
    root = str(tmp_path / 'coco') + '/'
    make_coco_layout(root)
    cfg = coco_cfg(root)
    cfg.merge_from_dict({'train_dataloader.dataset.metainfo':
                         dict(classes=('person', ))})
    with pytest.raises(ValueError, match='different class lists'):
        check_dataset_paths(cfg)
