"""Test of tools/analysis_tools/benchmark_netaug.py on the cards configs.

The cards data is converted to COCO into a temporary folder (the images stay
in ../shared/data/cards), so the test does not depend on data/cards.
"""
import json
import math
import sys

import pytest
import torch
from mmengine.config import Config

from conftest import CARDS, REPO, load_tool

convert_voc_to_coco = load_tool('tools/dataset_converters/voc_to_coco.py').convert_voc_to_coco

NETAUG_CONFIG = 'configs/netaug_ssdlite_mbv2_cards.py'
PLAIN_CONFIG = 'configs/ssdlite_mbv2_w035_cards.py'
CLASSES = ('nine', 'ten', 'jack', 'queen', 'king', 'ace')
INPUT = 160  # smaller than the configs' 320, for speed


def resize_index(config: str) -> int:
    """Index of the Resize step in the config's training pipeline."""
    pipeline = Config.fromfile(str(REPO / config)
                               ).train_dataloader.dataset.dataset.pipeline
    index = [i for i, t in enumerate(pipeline) if t['type'] == 'Resize']
    assert len(index) == 1, pipeline
    return index[0]


def test_benchmark_cards(tmp_path, monkeypatch, capsys):
    if not (CARDS / 'Annotations').is_dir():
        pytest.skip(f'cards dataset not found at {CARDS}')
    ann_file = tmp_path / 'train.json'
    coco = convert_voc_to_coco(str(CARDS), 'train', str(ann_file),
                               classes=CLASSES)
    assert coco['images'] and coco['annotations']
    index = resize_index(NETAUG_CONFIG)
    assert index == resize_index(PLAIN_CONFIG)
    dataset = 'train_dataloader.dataset.dataset'
    out = tmp_path / 'bench.json'
    monkeypatch.chdir(REPO)
    benchmark = load_tool('tools/analysis_tools/benchmark_netaug.py')
    threads = torch.get_num_threads()
    try:
        result = benchmark.main([
            NETAUG_CONFIG, PLAIN_CONFIG, '--device', 'cpu', '--steps', '2',
            '--warmup', '1', '--batch-size', '2', '--infer-steps', '2',
            '--threads', '1', '--out',
            str(out), '--cfg-options', f'{dataset}.data_root={CARDS}',
            f'{dataset}.ann_file={ann_file}',
            f'{dataset}.pipeline.{index}.scale=({INPUT},{INPUT})',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            '--netaug-options', 'model.separate_backward=False'
        ])
    finally:
        torch.set_num_threads(threads)

    saved = json.loads(out.read_text())
    for key in ('device', 'torch', 'batch_size', 'steps', 'warmup',
                'infer_steps', 'train', 'memory', 'inference', 'ratios',
                'parity_ok'):
        assert key in saved, key
    assert saved['batch_size'] == 2 and saved['steps'] == 2
    assert saved['torch'] == torch.__version__
    assert saved['device'].startswith('cpu')
    # --netaug-options reach the NetAug model only (the plain config has no
    # such field: it would not build)
    assert saved['netaug_options'] == {'model.separate_backward': False}

    train = saved['train']
    for role in ('netaug', 'plain'):
        assert len(train['step_times_s'][role]) == 2
        assert len(train['losses'][role]) == 3
        assert all(math.isfinite(v) for v in train['losses'][role])
        assert saved['memory'][role]['peak_mib'] > 0
        assert saved['memory'][role]['steps'] == 3

    infer = saved['inference']
    assert infer['input_size'] == [INPUT, INPUT]
    assert infer['params_equal'] and infer['flops_equal']
    assert infer['exported']['params'] == infer['plain']['params'] > 0
    assert infer['exported']['flops'] == infer['plain']['flops'] > 0
    assert infer['strict_load'] and saved['parity_ok']
    assert infer['max_abs_diff'] == 0  # export is exact

    ratios = saved['ratios']
    assert set(ratios) == {
        'train_step_time', 'train_memory_peak', 'train_memory_increase',
        'inference_latency'
    }
    assert all(v is not None and v > 0 for v in ratios.values()), ratios
    assert result['ratios'] == ratios

    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[-1].startswith('ratios NetAug/plain: train step time ')
    assert 'MISMATCH' not in '\n'.join(printed)
    header = next(line for line in printed if line.startswith('device '))
    assert "NetAug options {'model.separate_backward': False}" in header


def test_benchmark_samples_what_training_samples():
    """The benchmark times the sub-networks NetAugHook trains."""
    from conftest import build_model
    from mmdet_netaug.apis import benchmark
    from mmdet_netaug.engine import NetAugHook
    model = build_model()
    hook = NetAugHook(seed=7)
    for step in range(5):
        assert benchmark.aug_widths(model, 7, step, True) == \
            hook.sample_widths_at(model, step, max_iters=100)
    assert len({benchmark.aug_widths(model, 7, s) for s in range(5)}) > 1


def test_deterministic_kernels_restores_settings(monkeypatch):
    """deterministic_kernels turns deterministic kernels on for its block
    only, and on CUDA refuses to run without CUBLAS_WORKSPACE_CONFIG."""
    from mmdet_netaug.apis.benchmark import deterministic_kernels
    cudnn = torch.backends.cudnn
    before = (torch.are_deterministic_algorithms_enabled(),
              cudnn.deterministic, cudnn.benchmark)
    monkeypatch.setattr(cudnn, 'benchmark', True)
    with deterministic_kernels('cpu'):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert cudnn.deterministic and not cudnn.benchmark
    assert cudnn.benchmark
    assert (torch.are_deterministic_algorithms_enabled(),
            cudnn.deterministic) == before[:2]
    with pytest.raises(KeyError):  # restored when the block raises too
        with deterministic_kernels('cpu'):
            raise KeyError
    assert cudnn.benchmark and not cudnn.deterministic
    assert torch.are_deterministic_algorithms_enabled() == before[0]
    assert not torch.is_deterministic_algorithms_warn_only_enabled()
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    for device in ('cuda', 'cuda:0'):
        with pytest.raises(RuntimeError, match='CUBLAS_WORKSPACE_CONFIG'):
            with deterministic_kernels(device):
                pass


def test_batch_augments_are_left_out_of_the_benchmark():
    """YOLOX's BatchSyncRandomResize would draw each model's batch size at
    random (and rescale reused batches' boxes in place): the benchmark
    configs leave it out, so both models time the same batches; the plain
    model's training step then runs (it failed without a message hub)."""
    from mmdet.registry import MODELS
    from mmengine.optim import build_optim_wrapper

    from conftest import fake_batch
    from mmdet_netaug.apis.benchmark import load_configs, train_step
    cfgs = load_configs('configs/netaug_yolox_tiny_cards.py',
                        'configs/yolox_tiny_cards.py')
    assert cfgs['netaug'].model.detector.data_preprocessor.batch_augments \
        is None
    assert cfgs['plain'].model.data_preprocessor.batch_augments is None
    torch.manual_seed(0)
    model = MODELS.build(cfgs['plain'].model)
    images, samples = fake_batch(size=128)
    batch = dict(inputs=[(image * 50).byte() for image in images],
                 data_samples=samples)
    wrapper = build_optim_wrapper(model, cfgs['plain'].optim_wrapper)
    loss = train_step(model, wrapper, batch, 'plain', 0, 0)
    assert torch.isfinite(loss)


def test_step_tools_refuse_bad_arguments_in_one_line(tmp_path, monkeypatch,
                                                     capsys):
    """channels_last_step.py and benchmark_batched_targets.py: no steps
    (a median of nothing, after building everything) and a missing config
    end with a usage error naming them, not a traceback."""
    tool = load_tool('tools/misc/channels_last_step.py')
    for argv, said in ((['--steps', '0'], '--steps must be >= 1'),
                       ([str(tmp_path / 'nope.py'), 'b.py'],
                        'nope.py not found')):
        monkeypatch.setattr(sys, 'argv', ['channels_last_step.py', *argv])
        with pytest.raises(SystemExit) as error:
            tool.main()
        assert error.value.code == 2
        assert said in capsys.readouterr().err
