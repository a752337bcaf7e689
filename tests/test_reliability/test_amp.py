"""Mixed precision without a GPU: ``tools/train.py --amp`` switches to
``CPUAmpOptimWrapper`` (bfloat16 autocast) and NetAug SSDLite trains with
it on real cards images, then validates (in float32)."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

from conftest import load_tool
from mmdet_netaug.engine import CPUAmpOptimWrapper, cpu_supports_bf16
from reliability_helpers import single_thread  # noqa: F401 (fixture)
from reliability_helpers import add_recorder, recorder, small_netaug_config


def test_amp_option_picks_the_wrapper_of_the_device(repo, monkeypatch):
    tool = load_tool('tools/train.py')
    cfg = Config(
        dict(optim_wrapper=dict(type='OptimWrapper',
                                optimizer=dict(type='SGD', lr=0.1))))
    monkeypatch.setattr(tool, 'has_accelerator', lambda: True)
    tool.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    # a config that asks for the GPU wrapper still trains on a CPU
    monkeypatch.setattr(tool, 'has_accelerator', lambda: False)
    tool.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    # another wrapper type is not silently replaced (mmdet asserts)
    for accelerator in (True, False):
        monkeypatch.setattr(tool, 'has_accelerator', lambda: accelerator)
        other = Config(dict(optim_wrapper=dict(type='OptimWrapperDict')))
        with pytest.raises(SystemExit, match="uses 'OptimWrapperDict'"):
            tool.enable_amp(other)
        assert other.optim_wrapper.type == 'OptimWrapperDict'


def test_wrapper_options_and_state_are_checked():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match='dtype'):
        CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(),
                                                     lr=0.1),
                           dtype='float16')
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    # a plain wrapper that has stepped (momentum buffers) at another lr
    trained = torch.nn.Linear(2, 2)
    trained.load_state_dict(model.state_dict())
    plain = OptimWrapper(
        optimizer=torch.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9))
    plain.update_params(trained(torch.ones(3, 2)).square().sum())
    plain.optimizer.param_groups[0]['lr'] = 0.02
    state = plain.state_dict()
    assert wrapper.state_dict().keys() == state.keys()
    # an AmpOptimWrapper (GPU) checkpoint loads, its loss scaler ignored
    wrapper.load_state_dict(dict(state, loss_scaler=dict(scale=1024.0)))
    loaded = wrapper.state_dict()
    assert loaded['param_groups'][0]['lr'] == 0.02
    assert loaded['state'].keys() == state['state'].keys() == {0, 1}
    for index, buffers in state['state'].items():
        assert torch.equal(loaded['state'][index]['momentum_buffer'],
                           buffers['momentum_buffer'])


def test_forward_autocasts_to_bfloat16_or_warns_and_stays_float32(
        monkeypatch):
    """Under optim_context the forward computes in bfloat16 (CPU
    autocast, emulated where the CPU has no bf16 instructions); a wrapper
    built on a CPU without native support warns and keeps float32. Both
    run on any CPU, where the training test below needs native bf16."""
    from mmdet_netaug.engine import optimizers
    model = torch.nn.Conv2d(3, 4, 3)
    inputs = torch.randn(1, 3, 8, 8)
    for native in (True, False):
        monkeypatch.setattr(optimizers, 'cpu_supports_bf16', lambda: native)
        logged = []
        monkeypatch.setattr(optimizers, 'print_log',
                            lambda msg, **kwargs: logged.append(msg))
        wrapper = CPUAmpOptimWrapper(
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
        with wrapper.optim_context(model):
            output = model(inputs)
        assert output.dtype == (torch.bfloat16 if native else torch.float32)
        assert model(inputs).dtype == torch.float32  # outside: float32
        assert bool(logged) == (not native)
        assert all('no native bfloat16 support' in m for m in logged)


@pytest.mark.skipif(not cpu_supports_bf16(),
                    reason='this CPU has no native bfloat16 support')
def test_netaug_trains_in_bfloat16_and_validates(repo, cards_coco, tmp_path,
                                                 single_thread):
    cfg = add_recorder(small_netaug_config(cards_coco, tmp_path, val=True))
    load_tool('tools/train.py').enable_amp(cfg)  # what --amp does on this machine
    runner = Runner.from_cfg(cfg)

    dtypes = {'train': set(), 'val': set()}
    conv = runner.model.detector.backbone.backbone.layer2[0].expand_conv.conv

    def record(module, args, output):
        dtypes['train' if module.training else 'val'].add(output.dtype)

    conv.register_forward_hook(record)
    runner.train()

    assert isinstance(runner.optim_wrapper, CPUAmpOptimWrapper)
    assert dtypes == {'train': {torch.bfloat16}, 'val': {torch.float32}}
    iterations = recorder(runner).iterations
    assert len(iterations) == 4
    for it in iterations:
        assert it['finite'], it
        assert {'loss_cls', 'loss_bbox', 'aug_loss_cls',
                'aug_loss_bbox'} <= set(it['losses'])
    for param in runner.model.parameters():
        assert param.dtype == torch.float32
        assert torch.isfinite(param).all()
    scalars = runner.message_hub.log_scalars
    assert math.isfinite(scalars['val/coco/bbox_mAP'].current())
    assert 'val/pascal_voc/AP50' in scalars
