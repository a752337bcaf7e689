"""Shared fixtures: the repository, the cards data, small model configs."""
from pathlib import Path

import pytest

import mmdet_netaug  # noqa: F401  (registers modules, applies fixes)
from mmdet.utils import register_all_modules

register_all_modules()

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


def load_config(name: str, **overrides):
    """A config of ``configs/`` with mmengine's dotted overrides."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    if overrides:
        cfg.merge_from_dict(overrides)
    return cfg


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
