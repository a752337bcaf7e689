"""What ``tools/analysis_tools/benchmark_data_pipeline.py`` measures: the
CPU time of each transform of a config's training pipeline, per image, on
real images, and, where the pipeline crops with ``FastMinIoURandomCrop``,
mmdet's ``MinIoURandomCrop`` on the same inputs from the same random state.

In a training process the data workers share the CPU cores with the
training itself; on a 2-core machine, or a GPU machine running several
trainings, their time is time the training does not get."""
import copy
import time
from collections import defaultdict
from typing import Dict

import numpy as np
from mmengine.config import Config

from mmdet.datasets.transforms import MinIoURandomCrop
from mmdet.registry import DATASETS
from ..datasets import FastMinIoURandomCrop
from ..utils.data_check import check_dataset_paths, leaf_datasets

MMDET_CROP = 'MinIoURandomCrop (mmdet, same inputs)'


def time_train_pipeline(cfg: Config, num_images: int,
                        seed: int = 0) -> Dict[str, float]:
    """Milliseconds per image of every transform of the training pipeline
    (keyed by class name, in pipeline order), over the first ``num_images``
    images of the (first) training dataset, and ``MMDET_CROP`` where the
    pipeline uses ``FastMinIoURandomCrop``."""
    if num_images < 1:
        raise ValueError(f'num_images must be at least 1, got {num_images}')
    check_dataset_paths(cfg, splits=('train', ))  # names the missing files
    # the first dataset under the wrappers (RepeatDataset, ConcatDataset..)
    _, leaf = next(leaf_datasets(cfg.train_dataloader.dataset,
                                 'train_dataloader.dataset'))
    dataset = DATASETS.build(dict(leaf, indices=num_images))
    if len(dataset) < num_images:  # indices= takes what there is
        raise ValueError(
            f'{leaf.get("ann_file")}: {num_images} images asked for, the '
            f'training dataset has {len(dataset)}')
    transforms = dataset.pipeline.transforms
    # mmdet's crop with the same arguments, beside each fast one
    references = {
        id(t): MinIoURandomCrop(t.min_ious, t.min_crop_size,
                                t.bbox_clip_border)
        for t in transforms if isinstance(t, FastMinIoURandomCrop)
    }
    totals = defaultdict(float)
    np.random.seed(seed)
    for index in range(len(dataset)):
        results = dataset.get_data_info(index)
        for transform in transforms:
            if id(transform) in references:
                inputs, state = copy.deepcopy(results), np.random.get_state()
                start = time.perf_counter()
                references[id(transform)](inputs)
                totals[MMDET_CROP] += time.perf_counter() - start
                np.random.set_state(state)
            start = time.perf_counter()
            results = transform(results)
            totals[type(transform).__name__] += time.perf_counter() - start
            if results is None:  # a transform dropped the image
                break
    return {name: 1000 * total / len(dataset)
            for name, total in totals.items()}
