"""FastMinIoURandomCrop gives exactly mmdet's MinIoURandomCrop: the same
crops, boxes and labels from the same random state, which it leaves where
mmdet's transform leaves it."""
import copy

import numpy as np
import pytest
from mmdet.datasets.transforms import MinIoURandomCrop
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes

from conftest import REPO, load_config, load_tool
from mmdet_netaug.datasets import FastMinIoURandomCrop


def crop_inputs(config, data_root, num_images):
    """The results dicts that reach the crop in a cards config's training
    pipeline (images and boxes loaded, expanded), with their crop."""
    cfg = load_config(config)
    dataset_cfg = cfg.train_dataloader.dataset.dataset
    dataset_cfg.update(data_root=str(data_root) + '/', indices=num_images)
    dataset = DATASETS.build(dataset_cfg)
    transforms = dataset.pipeline.transforms
    index = next(i for i, t in enumerate(transforms)
                 if isinstance(t, MinIoURandomCrop))
    np.random.seed(0)
    inputs = []
    for i in range(num_images):
        results = dataset.get_data_info(i)
        for transform in transforms[:index]:
            results = transform(results)
        inputs.append(results)
    return inputs, transforms[index]


def assert_same_results(ours, theirs):
    assert ours.keys() == theirs.keys()
    for key in ours:
        a, b = ours[key], theirs[key]
        if isinstance(a, HorizontalBoxes):
            assert np.array_equal(a.numpy(), b.numpy()), key
        elif isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), key
        else:
            assert a == b, key


def run_both(crop, results, seed):
    """Both transforms from the same random state: their results and the
    random state each leaves."""
    mmdet_crop = MinIoURandomCrop(crop.min_ious, crop.min_crop_size,
                                  crop.bbox_clip_border)
    out = []
    for transform in (mmdet_crop, crop):
        np.random.seed(seed)
        result = transform(copy.deepcopy(results))
        out.append((result, np.random.get_state()[1].copy(),
                    np.random.get_state()[2]))
    return out


@pytest.mark.parametrize('config', ['ssdlite_mbv2_w035_cards.py',
                                    'yolov3_mbv2_w035_cards.py'])
def test_the_cards_pipelines_crop_as_mmdet_does(config, cards_coco):
    inputs, crop = crop_inputs(config, cards_coco, num_images=12)
    assert type(crop) is FastMinIoURandomCrop
    cropped = 0
    for i, results in enumerate(inputs):
        for seed in range(8):
            (theirs, state_t, pos_t), (ours, state_o, pos_o) = run_both(
                crop, results, seed=100 * i + seed)
            assert_same_results(ours, theirs)
            assert np.array_equal(state_o, state_t) and pos_o == pos_t
            cropped += ours['img_shape'] != results['img_shape']
    assert cropped > 20  # most draws crop: the comparison is not vacuous


@pytest.mark.parametrize('boxes', [
    np.zeros((0, 4), np.float32),  # no boxes: the image is still cropped
    np.array([[10, 10, 60, 50], [30, 20, 31, 21]], np.float32),  # a 1x1 box
    np.array([[0, 0, 100, 80], [5, 5, 95, 75]], np.float32),  # whole image
])
def test_edge_cases_crop_as_mmdet_does(boxes):
    results = dict(img=np.arange(80 * 100 * 3, dtype=np.uint8).reshape(
                       80, 100, 3), img_shape=(80, 100),
                   gt_bboxes=HorizontalBoxes(boxes),
                   gt_bboxes_labels=np.arange(len(boxes), dtype=np.int64),
                   gt_ignore_flags=np.zeros(len(boxes), bool))
    crop = TRANSFORMS.build(dict(type='FastMinIoURandomCrop'))
    for seed in range(40):
        (theirs, state_t, _), (ours, state_o, _) = run_both(crop, results,
                                                            seed)
        assert_same_results(ours, theirs)
        assert np.array_equal(state_o, state_t)


def test_the_pipeline_benchmark_times_both_crops(cards_coco, capsys):
    tool = load_tool('tools/analysis_tools/benchmark_data_pipeline.py')
    tool.main([str(REPO / 'configs/yolov3_mbv2_w035_cards_224.py'),
               '--images', '6',
               '--cfg-options',
               f'train_dataloader.dataset.dataset.data_root={cards_coco}/'])
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines()[1:]
             if line.startswith('  ')]
    assert names == ['LoadImageFromFile', 'LoadAnnotations', 'Expand',
                     'MinIoURandomCrop', 'FastMinIoURandomCrop', 'Resize',
                     'RandomFlip', 'PhotoMetricDistortion', 'PackDetInputs',
                     'pipeline']
    assert 'crop: mmdet / fast = ' in out


def test_the_pipeline_benchmark_needs_an_image():
    from mmdet_netaug.apis.pipeline_timing import time_train_pipeline
    with pytest.raises(ValueError, match='num_images must be at least 1'):
        time_train_pipeline(load_config('yolov3_mbv2_w035_cards_224.py'), 0)


def test_the_pipeline_benchmark_refuses_more_images_than_there_are(
        cards_coco, tmp_path):
    """It said '100000 images' over the dataset's 296; a missing config
    is one line too, not a traceback."""
    tool = load_tool('tools/analysis_tools/benchmark_data_pipeline.py')
    with pytest.raises(SystemExit, match='100000 images asked for, the '
                       'training dataset has 296'):
        tool.main([str(REPO / 'configs/yolov3_mbv2_w035_cards_224.py'),
                   '--images', '100000', '--cfg-options',
                   'train_dataloader.dataset.dataset.data_root='
                   f'{cards_coco}/'])
    with pytest.raises(SystemExit, match='nope.py not found'):
        tool.main([str(tmp_path / 'nope.py')])


def test_the_pipeline_benchmark_names_missing_data(tmp_path):
    tool = load_tool('tools/analysis_tools/benchmark_data_pipeline.py')
    with pytest.raises(SystemExit) as error:
        tool.main([str(REPO / 'configs/yolov3_mbv2_w035_cards_224.py'),
                   '--cfg-options',
                   f'train_dataloader.dataset.dataset.data_root={tmp_path}/'])
    message = str(error.value)
    assert 'train_dataloader.dataset.dataset.ann_file' in message
    assert str(tmp_path / 'annotations/train.json') in message
