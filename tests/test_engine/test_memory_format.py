"""The config field ``memory_format``: channels_last training through
CheckedRunner, the same losses as the default layout."""
import pytest
import torch
from mmengine.hooks import Hook

from conftest import cards_runner_config
from mmdet.registry import HOOKS
from mmdet_netaug.engine import CheckedRunner
from mmdet_netaug.engine.hooks import MemoryFormatHook


@HOOKS.register_module()
class RecordWeightLayoutHook(Hook):
    """Whether the first convolution's weight is channels_last at every
    training iteration (the layout the step computes in)."""

    def __init__(self):
        self.channels_last = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        weight = runner.model.detector.backbone.backbone.conv1.conv.weight
        self.channels_last.append(
            weight.is_contiguous(memory_format=torch.channels_last)
            and not weight.is_contiguous())


def _train(cfg):
    runner = CheckedRunner.from_cfg(cfg)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    return runner, loss


def test_channels_last_trains_netaug_with_the_same_losses(cards_coco,
                                                          tmp_path):
    base = dict(train_images=8, epochs=1, batch_size=4)
    cfg = cards_runner_config('netaug_ssdlite_mbv2_cards.py', cards_coco,
                              tmp_path / 'nchw', **base)
    _, loss = _train(cfg)
    cfg = cards_runner_config('netaug_ssdlite_mbv2_cards.py', cards_coco,
                              tmp_path / 'last', memory_format='channels_last',
                              **base)
    cfg.custom_hooks.append(dict(type='RecordWeightLayoutHook'))
    runner, loss_last = _train(cfg)
    assert sum(isinstance(h, MemoryFormatHook) for h in runner.hooks) == 1
    # every step trained in channels_last, not only the model at the end
    recorder = next(h for h in runner.hooks
                    if isinstance(h, RecordWeightLayoutHook))
    assert recorder.channels_last == [True, True]
    weight = runner.model.detector.backbone.backbone.conv1.conv.weight
    assert weight.is_contiguous(memory_format=torch.channels_last)
    assert not weight.is_contiguous()
    # the same float32 arithmetic in another layout: equal up to rounding
    assert loss_last == pytest.approx(loss, rel=1e-3)
    # its checkpoint loads into the default layout
    state = torch.load(str(tmp_path / 'last' / 'epoch_1.pth'),
                       weights_only=False)['state_dict']
    runner.model.to(memory_format=torch.contiguous_format)
    runner.model.load_state_dict(state, strict=True)
    assert torch.equal(
        runner.model.detector.backbone.backbone.conv1.conv.weight,
        state['detector.backbone.backbone.conv1.conv.weight'])


def test_an_unknown_memory_format_is_refused(cards_coco, tmp_path):
    cfg = cards_runner_config('ssdlite_mbv2_w035_cards.py', cards_coco,
                              tmp_path, epochs=1, memory_format='nhwc')
    with pytest.raises(ValueError, match='memory_format.*nhwc'):
        CheckedRunner.from_cfg(cfg)
