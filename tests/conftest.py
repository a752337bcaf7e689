"""Shared fixtures: the repository, the cards data, small model configs."""
import os
from pathlib import Path

import pytest
import torch

import mmdet_netaug  # noqa: F401  (registers modules, applies fixes)
from mmdet.utils import register_all_modules

register_all_modules()

if os.environ.get('PYTEST_XDIST_WORKER'):
    # ``pytest -n N`` (make test): N worker processes share the cores, one
    # thread each, and so do the processes the tests start; more would
    # thrash.
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
CARDS = (REPO.parent / 'shared' / 'data' / 'cards').resolve()


@pytest.fixture(scope='session')
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope='session')
def cards_root() -> Path:
    """The cards dataset (VOC layout) beside the repository."""
    if not (CARDS / 'Annotations').is_dir():
        pytest.skip(f'cards dataset not found at {CARDS}')
    return CARDS


def load_tool(relative_path: str):
    """Import a command-line script of the repository (e.g.
    ``tools/train.py``) as a module. As ``python <script>`` does, the
    script's folder comes first on ``sys.path``, so that it imports its
    sibling modules (``voc_xml`` beside ``voc_to_coco.py``)."""
    import importlib.util
    import sys
    path = REPO / relative_path
    saved = list(sys.path)
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def load_config(name: str, **overrides):
    """A config of ``configs/`` with mmengine's dotted overrides (the
    package's one config loader)."""
    from mmdet_netaug.utils import load_config as load
    return load(str(REPO / 'configs' / name), overrides)


def build_model(name: str = 'netaug_ssdlite_mbv2_cards.py', **overrides):
    """Build (and initialise) a config's model."""
    from mmdet.registry import MODELS
    model = MODELS.build(load_config(name, **overrides).model)
    model.init_weights()
    return model


def fake_batch(num_classes: int = 6, batch: int = 2, size: int = 320,
               seed: int = 0):
    """A preprocessed batch: random images and two boxes per image."""
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, size, size, generator=g)
    samples = []
    for _ in range(batch):
        xy = torch.rand(2, 2, generator=g) * size * 0.5
        wh = 20 + torch.rand(2, 2, generator=g) * size * 0.4
        sample = DetDataSample(
            metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                          scale_factor=(1.0, 1.0), pad_shape=(size, size),
                          batch_input_shape=(size, size)))
        sample.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], 1),
            labels=torch.randint(0, num_classes, (2, ), generator=g))
        samples.append(sample)
    return images, samples


CARDS_CLASSES = ('nine', 'ten', 'jack', 'queen', 'king', 'ace')


@pytest.fixture(scope='session')
def cards_coco(cards_root, tmp_path_factory) -> Path:
    """The cards data in COCO format (as the README's conversion makes it)."""
    convert_voc_to_coco = load_tool(
        'tools/dataset_converters/voc_to_coco.py').convert_voc_to_coco
    out = tmp_path_factory.mktemp('cards_coco')
    (out / 'annotations').mkdir()
    for split in ('train', 'test'):
        convert_voc_to_coco(str(cards_root), split,
                            str(out / 'annotations' / f'{split}.json'),
                            classes=CARDS_CLASSES)
    (out / 'JPEGImages').symlink_to(cards_root / 'JPEGImages')
    return out


def cards_runner_config(config: str, data_root: Path, work_dir: Path,
                        train_images: int = 8, test_images: int = 8,
                        epochs: int = 2, batch_size: int = 4, **overrides):
    """A cards config shrunk for CPU tests: a few images, a few iterations,
    real data, real mmdet pipeline, metrics and hooks."""
    root = str(data_root) + '/'
    options = {
        'work_dir': str(work_dir),
        'train_dataloader.batch_size': batch_size,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.times': 1,
        'train_dataloader.dataset.dataset.data_root': root,
        'train_dataloader.dataset.dataset.indices': train_images,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'val_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.indices': test_images,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'test_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.indices': test_images,
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': epochs,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': epochs,
        'default_hooks.checkpoint.save_best': None,
        'param_scheduler.0.end': 2,
        'randomness.seed': 0,
    }
    options.update(overrides)
    cfg = load_config(config, **options)
    for key in ('val_evaluator', 'test_evaluator'):
        for metric in cfg[key]:
            if metric['type'] == 'CocoMetric':
                metric['ann_file'] = root + 'annotations/test.json'
    return cfg
