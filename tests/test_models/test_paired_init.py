"""Paired comparisons: under one seed, a NetAug run and its plain baseline
start from identical tiny weights and the random generators go on alike."""
import pytest
import torch
from mmengine.runner import Runner

from conftest import load_config


def _initialised(config: str, seed: int, work_dir):
    """The model as mmengine's Runner builds and initialises it for
    training, and the torch random state right after."""
    cfg = load_config(config)
    cfg.work_dir = str(work_dir / config)
    cfg.randomness = dict(seed=seed)
    runner = Runner.from_cfg(cfg)
    runner.call_hook('before_run')  # what Runner.train() does first
    runner._init_model_weights()
    return runner.model, torch.get_rng_state()


@pytest.mark.parametrize('netaug, plain', [
    ('netaug_ssdlite_mbv2_cards.py', 'ssdlite_mbv2_w035_cards.py'),
    ('netaug_yolov3_mbv2_cards.py', 'yolov3_mbv2_w035_cards.py'),
    ('netaug_rtmdet_tiny_cards.py', 'rtmdet_tiny_cards.py'),
])
def test_same_seed_same_tiny_weights(netaug, plain, tmp_path):
    model, netaug_rng = _initialised(netaug, 3, tmp_path)
    baseline, plain_rng = _initialised(plain, 3, tmp_path)
    tiny = model.export_plain().state_dict()
    expected = baseline.state_dict()
    assert list(tiny) == list(expected)
    differing = [k for k in expected if not torch.equal(tiny[k], expected[k])]
    assert not differing
    assert torch.equal(netaug_rng, plain_rng)
    # another seed gives other weights: the equality above is not trivial
    other, _ = _initialised(plain, 4, tmp_path)
    assert not all(torch.equal(v, other.state_dict()[k])
                   for k, v in expected.items() if v.is_floating_point())


def test_plain_state_dict_fills_the_tiny_slices():
    from conftest import build_model
    model = build_model()
    plain = model.export_plain()
    for p in plain.parameters():
        torch.nn.init.normal_(p)
    model.load_plain_state_dict(plain.state_dict())
    assert all(torch.equal(v, plain.state_dict()[k])
               for k, v in model.export_plain().state_dict().items())


@pytest.mark.parametrize('sort_at_start', [False, True])
def test_the_first_epoch_starts_from_the_paired_tiny_weights(
        cards_coco, tmp_path, sort_at_start):
    """The channel sort at epoch starts does not run before the first step
    (by default): the tiny model the NetAug run trains from is its plain
    baseline's start. The authors' order (sort_at_start) replaces part of
    it with randomly initialised wide channels."""
    from conftest import cards_runner_config
    from mmdet_netaug.engine import NetAugHook

    def started(config):
        cfg = cards_runner_config(config, cards_coco, tmp_path / config,
                                  **{'randomness.seed': 3})
        for hook in cfg.custom_hooks:
            if hook['type'] == 'NetAugHook':
                hook['sort_at_start'] = sort_at_start
        runner = Runner.from_cfg(cfg)
        # what Runner.train() does before the first step
        runner._train_loop = runner.build_train_loop(runner._train_loop)
        runner.optim_wrapper = runner.build_optim_wrapper(
            runner.optim_wrapper)
        runner.call_hook('before_run')
        runner._init_model_weights()
        runner.call_hook('before_train_epoch')
        return runner

    netaug = started('netaug_ssdlite_mbv2_cards.py')
    assert any(isinstance(h, NetAugHook) for h in netaug.hooks)
    tiny = netaug.model.export_plain().state_dict()
    plain = started('ssdlite_mbv2_w035_cards.py').model.state_dict()
    differing = [k for k in plain if not torch.equal(tiny[k], plain[k])]
    if sort_at_start:
        assert len(differing) > 10
    else:
        assert not differing
