"""Export: the tiny model as a plain mmdet model, checked in stock mmdet."""
import json
import os
import subprocess
import sys

import torch

from conftest import REPO, fake_batch, load_config
from mmdet_netaug.apis import build_netaug_model, export_tiny

# Run in a fresh interpreter that never imports mmdet_netaug: build the
# exported config's model and load its checkpoint strictly, then check.
STOCK_LOAD = r'''
import sys, torch
from mmengine.config import Config
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
register_all_modules()
config, checkpoint, batch = sys.argv[1:4]
model = MODELS.build(Config.fromfile(config).model).eval()
state = torch.load(checkpoint, map_location='cpu', weights_only=True)
model.load_state_dict(state['state_dict'], strict=True)
'''
STOCK_MMDET = STOCK_LOAD + r'''
images, samples, expected = torch.load(batch, weights_only=False)
with torch.no_grad():
    try:
        model.predict(images, samples)
        print('STOCK_PREDICT_OK')
    except AttributeError as error:  # mmdet 3.3.0's SSDHead bug
        print('STOCK_PREDICT_FAILS', error)
    model.bbox_head.loss_cls = None  # the documented stock workaround
    results = model.predict(images, samples)
for result, (bboxes, scores, labels) in zip(results, expected):
    pred = result.pred_instances
    assert torch.equal(pred.bboxes, bboxes)
    assert torch.equal(pred.scores, scores)
    assert torch.equal(pred.labels, labels)
assert 'mmdet_netaug' not in sys.modules
print('EQUAL', len(results))
'''


def _run_stock(script: str, export: dict,
               batch) -> subprocess.CompletedProcess:
    """Run ``script`` on the exported config, checkpoint and ``batch`` in a
    fresh interpreter, with as many threads as this process (the checks
    are bitwise)."""
    run = subprocess.run(
        [sys.executable, '-c', script, export['config'], export['checkpoint'],
         str(batch)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads())))
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_export_loads_strictly_into_stock_mmdet_with_equal_predictions(
        tmp_path):
    torch.manual_seed(0)
    cfg = load_config('netaug_ssdlite_mbv2_cards.py')
    model = build_netaug_model(cfg)
    model.init_weights()
    model.eval()
    result = export_tiny(cfg, model, str(tmp_path), input_size=(256, 256))
    assert result['max_abs_diff'] == 0
    # Exported cost is the tiny model's, smaller than the largest network.
    assert result['tiny']['params'] < result['largest']['params']
    assert result['tiny']['flops'] < result['largest']['flops']
    plain = load_config('ssdlite_mbv2_w035_cards.py')
    from mmdet.registry import MODELS
    from mmdet_netaug.apis import model_complexity
    baseline = MODELS.build(plain.model)
    assert model_complexity(baseline, (256, 256)) == result['tiny']

    images, samples = fake_batch(size=256)
    with torch.no_grad():
        predictions = model.predict(images * 50, samples)
    expected = [(p.pred_instances.bboxes, p.pred_instances.scores,
                 p.pred_instances.labels) for p in predictions]
    assert len(expected[0][0]) > 0
    batch = tmp_path / 'batch.pt'
    torch.save((images * 50, samples, expected), batch)
    run = _run_stock(STOCK_MMDET, result, batch)
    assert 'EQUAL 2' in run.stdout
    # The stock bug is real, hence mmdet_netaug.compat's fix.
    assert 'STOCK_PREDICT_FAILS' in run.stdout


# Build mmengine's Runner from the exported config, and every transform of
# its pipelines, in stock mmdet: what its tools/test.py and tools/train.py
# build before they read any data.
STOCK_RUNNER = r'''
import sys
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.runner import Runner
from mmdet.registry import DATASETS
from mmdet.utils import register_all_modules
register_all_modules()
from mmdet.apis import init_detector
cfg = Config.fromfile(sys.argv[1])
cfg.work_dir = sys.argv[2]
print('CLASSES', *init_detector(cfg, sys.argv[3], device='cpu').dataset_meta[
    'classes'])
runner = Runner.from_cfg(cfg)
hooks = [type(hook).__name__ for hook in runner.hooks]
for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
    dataset = cfg[key].dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    DATASETS.get(dataset.type) or sys.exit(f'{key}: no {dataset.type}')
    Compose(dataset.pipeline)
assert 'mmdet_netaug' not in sys.modules
print('STOCK_RUNNER', ' '.join(hooks))
'''


def test_exported_config_runs_in_stock_mmdet(tmp_path):
    """The export of a config that trains with the package's data
    transform, dataset and hooks (EpochSeedHook, NetAugHook) builds a stock
    mmengine Runner and its pipelines in an interpreter without the
    package: the stock equivalents take their place; mmdet's init_detector
    finds the class names in the checkpoint."""
    cfg = load_config('netaug_yolov3_mbv2_cards_224_72e.py')
    assert 'EpochSeedHook' in [h['type'] for h in cfg.custom_hooks]
    model = build_netaug_model(cfg)
    result = export_tiny(cfg, model, str(tmp_path), input_size=(64, 64))
    exported = open(result['config']).read()
    for gone in ('FastMinIoURandomCrop', 'CheckedCocoDataset',
                 'EpochSeedHook', 'invalid_boxes'):
        assert gone not in exported
    assert "type='MinIoURandomCrop'" in exported
    run = subprocess.run(
        [sys.executable, '-c', STOCK_RUNNER, result['config'],
         str(tmp_path / 'runner'), result['checkpoint']], cwd=REPO,
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert run.returncode == 0, run.stderr[-3000:]
    assert 'STOCK_RUNNER' in run.stdout and 'CheckpointHook' in run.stdout
    # the class names travel with the checkpoint, as a training's do
    assert 'CLASSES nine ten jack queen king ace' in run.stdout


def test_export_refuses_a_package_type_without_a_stock_one():
    """A key the Runner reads that names one of the package's types with no
    stock equivalent stops the export, naming the key and the type."""
    import pytest

    from mmdet_netaug.apis.export import ExportError, plain_config
    cfg = load_config('netaug_ssdlite_mbv2_cards.py')
    model = build_netaug_model(cfg)
    cfg.val_evaluator = [cfg.val_evaluator, dict(type='NetAugBackbone')]
    with pytest.raises(ExportError, match=r'val_evaluator\.1 '
                       r'\(NetAugBackbone\)'):
        plain_config(cfg, model)


def test_exported_config_keeps_data_whose_path_names_the_package():
    """Only NetAug's own entries leave the exported config, not a dataset
    that lives under a folder named like the package or like NetAug."""
    from mmdet_netaug.apis.export import plain_config
    root = '/home/u/mmdet_netaug/data/cards/'
    netaug_root = '/data/NetAugRuns/cards/'
    cfg = load_config('netaug_ssdlite_mbv2_cards.py', **{
        'test_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root})
    cfg.train_dataloader.dataset.dataset.data_root = netaug_root
    cfg.train_dataloader.dataset.dataset.pipeline[3].type = \
        'mmdet_netaug.FastMinIoURandomCrop'  # a scoped name
    plain = plain_config(cfg, build_netaug_model(cfg))
    assert plain.test_dataloader.dataset.data_root == root
    assert plain.val_dataloader.dataset.data_root == root
    assert plain.train_dataloader.dataset.dataset.data_root == netaug_root
    assert plain.train_dataloader.dataset.dataset.pipeline[3].type == \
        'MinIoURandomCrop'
    assert 'val_evaluator' in plain and 'model_wrapper_cfg' not in plain
    assert not [k for k in plain if k.startswith('netaug_')]


def test_exported_config_names_no_netaug_type(tmp_path):
    cfg = load_config('netaug_ssdlite_mbv2_cards.py')
    model = build_netaug_model(cfg)
    result = export_tiny(cfg, model, str(tmp_path), input_size=(192, 192))
    text = open(result['config']).read()
    assert 'NetAug' not in text and 'mmdet_netaug' not in text
    # nor the helper names of configs/_base_/netaug.py
    assert not [line for line in text.splitlines()
                if line.startswith('netaug_')]
    assert json.dumps(model.plain_detector_config()['backbone']) == \
        json.dumps(dict(cfg.model.detector.backbone.backbone))


def _export_files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_export_is_checked_before_it_is_written(tmp_path, monkeypatch):
    import errno

    import pytest

    from mmdet_netaug.apis import ExportError
    cfg = load_config('netaug_ssdlite_mbv2_cards.py')
    torch.manual_seed(0)
    model = build_netaug_model(cfg)
    out = tmp_path / 'export'
    # out-of-range arguments are refused before anything is written
    for kwargs, message in ((dict(tolerance=-1.0), 'tolerance must be'),
                            (dict(tolerance=float('nan')), 'tolerance must'),
                            (dict(input_size=(0, 0)), 'two positive ints')):
        with pytest.raises(ExportError, match=message):
            export_tiny(cfg, model, str(out), **dict(
                dict(input_size=(192, 192)), **kwargs))
        assert not out.exists()
    (tmp_path / 'a_file').write_text('mine')
    with pytest.raises(ExportError, match='a_file is a file'):
        export_tiny(cfg, model, str(tmp_path / 'a_file'))
    assert (tmp_path / 'a_file').read_text() == 'mine'
    # a failed output check writes nothing under the final names
    import mmdet_netaug.apis.export as export_module
    monkeypatch.setattr(export_module, 'max_output_difference',
                        lambda *args: 1.0)
    with pytest.raises(ExportError, match='differ .* up to 1 .*tolerance'):
        export_tiny(cfg, model, str(out), input_size=(192, 192))
    monkeypatch.undo()
    assert _export_files(out) == []
    first = export_tiny(cfg, model, str(out), input_size=(192, 192))
    written = open(first['checkpoint'], 'rb').read()
    assert _export_files(out) == ['netaug_ssdlite_mbv2_cards_tiny.pth',
                                  'netaug_ssdlite_mbv2_cards_tiny.py']
    # the same export again is fine; a different one needs force
    export_tiny(cfg, model, str(out), input_size=(192, 192))
    other = build_netaug_model(cfg)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    with pytest.raises(ExportError, match='--force'):
        export_tiny(cfg, other, str(out), input_size=(192, 192))
    assert open(first['checkpoint'], 'rb').read() == written
    # a full disk: a message that says so, the old files intact
    real_save = torch.save

    def full_disk(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(torch, 'save', full_disk)
    with pytest.raises(ExportError, match='No space left'):
        export_tiny(cfg, other, str(out), input_size=(192, 192), force=True)
    monkeypatch.undo()
    assert open(first['checkpoint'], 'rb').read() == written
    assert len(_export_files(out)) == 2  # no temporary folder left
    export_tiny(cfg, other, str(out), input_size=(192, 192), force=True)
    assert open(first['checkpoint'], 'rb').read() != written


STOCK_RAW_OUTPUTS = STOCK_LOAD + r'''
images, expected = torch.load(batch, weights_only=True)
with torch.no_grad():
    outputs = model._forward(images)
flat = [t for level in outputs for t in level]
assert all(torch.equal(a, b) for a, b in zip(flat, expected))
assert 'mmdet_netaug' not in sys.modules
print('STOCK_EQUAL', len(flat))
'''


def test_rtmdet_export_loads_strictly_into_stock_mmdet(tmp_path):
    """RTMDet-tiny: the gated CSPNeXt blocks and the head's shared
    convolutions export to stock mmdet with equal raw outputs."""
    torch.manual_seed(0)
    cfg = load_config('netaug_rtmdet_tiny_cards.py')
    model = build_netaug_model(cfg)
    model.init_weights()
    model.eval()
    result = export_tiny(cfg, model, str(tmp_path), input_size=(128, 128))
    assert result['max_abs_diff'] == 0
    images = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        expected = [t for level in model._forward(images) for t in level]
    batch = tmp_path / 'batch.pt'
    torch.save((images, expected), batch)
    run = _run_stock(STOCK_RAW_OUTPUTS, result, batch)
    assert 'STOCK_EQUAL 6' in run.stdout


def test_export_checks_at_the_config_test_size():
    """tools/export.py's default --input-size is the config's test size
    (its test pipeline's Resize), not a fixed 320: 224 for the _224
    configs, 416 for YOLOX-tiny, 640 for RTMDet on COCO."""
    from mmdet_netaug.apis import config_test_size
    for name, size in (('netaug_ssdlite_mbv2_cards_224.py', (224, 224)),
                       ('netaug_yolox_tiny_cards.py', (416, 416)),
                       ('netaug_rtmdet_tiny_coco.py', (640, 640)),
                       ('netaug_ssdlite_mbv2_cards.py', (320, 320))):
        assert config_test_size(load_config(name)) == size, name
    cfg = load_config('netaug_ssdlite_mbv2_cards.py')
    cfg.test_dataloader.dataset.pipeline = [dict(type='LoadImageFromFile')]
    cfg.val_dataloader.dataset.pipeline = [dict(type='LoadImageFromFile')]
    assert config_test_size(cfg) is None


def test_output_difference_is_nan_wherever_an_output_is():
    """The parity check fails on a NaN in any output, not only the first
    (Python's max skips a NaN that follows a number)."""
    import math

    from mmdet_netaug.apis.export import max_output_difference

    class Outputs(torch.nn.Module):

        def __init__(self, *values):
            super().__init__()
            self.values = values

        def _forward(self, images):
            return [torch.full((2, 3), v) for v in self.values]

    images = torch.zeros(1, 3, 8, 8)
    nan = float('nan')
    assert max_output_difference(Outputs(0., 1.), Outputs(0., 1.5),
                                 images) == 0.5
    for ours, theirs in (((0., nan), (0., 1.)), ((0., nan), (0., nan)),
                         ((nan, 0.), (1., 0.))):
        assert math.isnan(max_output_difference(
            Outputs(*ours), Outputs(*theirs), images)), (ours, theirs)


def test_export_refuses_a_negative_bn_calibration(monkeypatch, capsys):
    """--bn-calibration -1 was taken as 'yes' and failed deep inside with
    the library's field name; now a usage error names the option."""
    import pytest

    from conftest import load_tool
    tool = load_tool('tools/export.py')
    monkeypatch.setattr(sys, 'argv', [
        'export.py', 'configs/netaug_ssdlite_mbv2_cards.py', 'x.pth', 'out',
        '--bn-calibration', '-1'])
    with pytest.raises(SystemExit) as error:
        tool.parse_args()
    assert error.value.code == 2
    assert '--bn-calibration must be >= 0' in capsys.readouterr().err
    for option, message in ((['--input-size', '0', '320'],
                             '--input-size H W must be positive, got 0 320'),
                            (['--tolerance', '-1'],
                             '--tolerance must be >= 0, got -1.0')):
        monkeypatch.setattr(sys, 'argv', [
            'export.py', 'configs/netaug_ssdlite_mbv2_cards.py', 'x.pth',
            'out'] + option)
        with pytest.raises(SystemExit):
            tool.parse_args()
        assert message in capsys.readouterr().err
