"""The generated underfitting benchmark: deterministic, 24 classes, clutter
and occlusion, loadable by its configs."""
import json

import numpy as np
from mmengine.config import Config

from conftest import REPO, load_tool
from mmdet_netaug.datasets import CheckedCocoDataset

hard_shapes = load_tool('tools/misc/hard_shapes.py')
HARD_SHAPES_CLASSES = hard_shapes.HARD_SHAPES_CLASSES
make_hard_shapes_coco = hard_shapes.make_hard_shapes_coco

SMALL = dict(num_train=60, num_val=6, image_size=(96, 96), seed=2)


def test_deterministic_and_reused(tmp_path):
    a = make_hard_shapes_coco(str(tmp_path / 'a'), **SMALL)
    b = make_hard_shapes_coco(str(tmp_path / 'b'), **SMALL)
    assert a['generated'] and b['generated']
    files = sorted(p.relative_to(tmp_path / 'a')
                   for p in (tmp_path / 'a').rglob('*') if p.is_file())
    assert len(files) == 60 + 6 + 3
    for f in files:
        assert (tmp_path / 'a' / f).read_bytes() == \
            (tmp_path / 'b' / f).read_bytes()
    assert not make_hard_shapes_coco(str(tmp_path / 'a'),
                                     **SMALL)['generated']


def test_classes_boxes_and_occlusion(tmp_path):
    make_hard_shapes_coco(str(tmp_path), **SMALL)
    coco = json.loads((tmp_path / 'annotations' / 'train.json').read_text())
    assert [c['name'] for c in coco['categories']] == \
        list(HARD_SHAPES_CLASSES)
    assert len(set(HARD_SHAPES_CLASSES)) == 24
    labels = {a['category_id'] for a in coco['annotations']}
    assert len(labels) >= 20  # 60 small images already show most classes
    boxes = {}
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        assert 0 <= x and 0 <= y and x + w <= 96 and y + h <= 96
        assert w >= 2 and h >= 2
        boxes.setdefault(ann['image_id'], []).append(ann['bbox'])
    per_image = [len(b) for b in boxes.values()]
    assert max(per_image) >= 5
    sides = np.array([max(a['bbox'][2:]) for a in coco['annotations']])
    assert sides.min() < 0.15 * 96 and sides.max() > 0.45 * 96

    def overlaps(a, b):
        return min(a[0] + a[2], b[0] + b[2]) > max(a[0], b[0]) and \
            min(a[1] + a[3], b[1] + b[3]) > max(a[1], b[1])
    assert any(overlaps(a, b) for bs in boxes.values()
               for i, a in enumerate(bs) for b in bs[i + 1:])


def test_config_reads_it(tmp_path):
    make_hard_shapes_coco(str(tmp_path), **SMALL)
    cfg = Config.fromfile(str(REPO / 'configs' /
                              'ssdlite_mbv2_w035_hardshapes.py'))
    assert cfg.model.bbox_head.num_classes == 24
    dataset_cfg = dict(cfg.train_dataloader.dataset.dataset)
    dataset_cfg.pop('type')
    dataset_cfg['data_root'] = str(tmp_path) + '/'
    dataset = CheckedCocoDataset(**dataset_cfg)  # class names match
    sample = dataset[0]
    assert tuple(sample['inputs'].shape[1:]) == (224, 224)


def test_cli_hard_variant(tmp_path, capsys):
    cli = load_tool('tools/misc/make_synthetic_dataset.py')
    cli.main(['--variant', 'hard', '--out', str(tmp_path), '--num-train',
              '4', '--num-val', '2', '--size', '64'])
    out = capsys.readouterr().out
    assert 'generated' in out and 'warm_solid_circle' in out
    # the other generator in the same folder: the hard images go
    cli.main(['--out', str(tmp_path), '--num-train', '2', '--num-val', '1',
              '--size', '64'])
    assert '6 images of an earlier generation' in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / 'images').iterdir()) == [
        'train_00000.png', 'train_00001.png', 'val_00000.png']
