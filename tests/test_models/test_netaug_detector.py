"""NetAugDetector: shared weights, sampling, the augmented loss, sorting."""
import random

import pytest
import torch

from conftest import build_model, fake_batch
from mmdet_netaug.models import permute_optimizer_state
from mmdet_netaug.ops import DynamicChannelMixin, DynamicConv2d


class FixedSchedule:
    """Chooses the same augmented sub-network at every step (what
    NetAugHook does per step, for tests that call ``loss`` directly)."""

    def __init__(self, widths):
        self.widths = widths

    def current_widths(self):
        return self.widths


def _driven(model, widths):
    model.use_schedule(FixedSchedule(widths))
    return model


def _sum(losses, prefix=''):
    return sum(
        sum(v) if isinstance(v, list) else v for k, v in losses.items()
        if k.startswith(prefix + 'loss'))


def test_tiny_weights_are_slices_and_the_augmented_loss_moves_them():
    torch.manual_seed(0)
    model = build_model()
    net = model.supernet
    _driven(model, net.largest_widths())
    stem = model.detector.backbone.backbone.conv1.conv
    assert isinstance(stem, DynamicConv2d)
    exported = model.export_plain().backbone.conv1.conv
    assert torch.equal(exported.weight, stem.weight[:stem.base_out_channels])

    images, samples = fake_batch()
    losses = model.loss(images, samples)
    assert {'loss_cls', 'loss_bbox', 'aug_loss_cls',
            'aug_loss_bbox'} <= losses.keys()
    assert all(torch.isfinite(torch.stack(v)).all() for v in losses.values())
    # Only the augmented loss: its gradient reaches the tiny slice.
    _sum(losses, 'aug_').backward()
    tiny_grad = stem.weight.grad[:stem.base_out_channels]
    assert tiny_grad.abs().sum() > 0
    before = stem.weight[:stem.base_out_channels].detach().clone()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert not torch.equal(stem.weight[:stem.base_out_channels], before)


def test_sampled_widths_stay_in_choices_and_coupled_layers_agree():
    model = build_model()
    net = model.supernet
    rng = random.Random(0)
    images = torch.randn(1, 3, 320, 320)
    model.eval()
    for step in range(6):
        widths = net.sample(rng, augment_width=step % 2 == 0)
        for group, width in zip(net.graph.groups, widths):
            assert width in net.choices[group.index]
            if step % 2 and not group.inner:
                assert width == group.base_width  # width augmentation off
        net.set_widths(widths)
        for name, (module, layer) in net.layers.items():
            assert module.active_in_channels == sum(widths[g]
                                                    for g in layer.inputs)
            assert module.active_out_channels == sum(widths[g]
                                                     for g in layer.outputs)
        outputs = model.detector._forward(images)  # shapes are consistent
        assert outputs[0][0].shape[1] == model.detector.bbox_head.cls_convs[
            0][1].out_channels
    with pytest.raises(ValueError, match='is not one of'):
        net.set_widths([w + 1 for w in net.tiny_widths()])


def test_alpha_scales_the_augmented_loss_and_both_are_logged():
    torch.manual_seed(0)
    model = build_model(**{'model.aug_loss_weight': 0.5})
    widths = model.supernet.sample(random.Random(1))
    _driven(model, widths)
    images, samples = fake_batch()
    model.eval()  # fixed BN statistics: the two passes are comparable
    half = model.loss(images, samples)
    model.aug_loss_weight = 1.0
    full = model.loss(images, samples)
    assert torch.allclose(_sum(half, 'aug_') * 2, _sum(full, 'aug_'))
    assert torch.allclose(_sum(half), _sum(full))  # the tiny loss
    model.schedule.widths = None  # NetAug switched off: tiny loss only
    assert not any(k.startswith('aug_') for k in model.loss(images, samples))


def test_training_without_the_hook_is_refused():
    model = build_model()
    images, samples = fake_batch()
    with pytest.raises(RuntimeError, match='NetAugHook'):
        model.loss(images, samples)


def test_non_finite_augmented_loss_names_the_subnetwork():
    model = build_model()
    net = model.supernet
    stem = model.detector.backbone.backbone.conv1.conv
    with torch.no_grad():
        stem.weight[stem.base_out_channels:] = float('nan')  # wide part only
    _driven(model, net.largest_widths())
    images, samples = fake_batch()
    with pytest.raises(FloatingPointError, match='augmented sub-network'):
        model.loss(images, samples)


def test_bad_detector_fields_are_named():
    from mmdet.registry import MODELS
    from conftest import load_config
    detector = load_config('netaug_ssdlite_mbv2_cards.py').model.detector
    for alpha in (-1, float('inf'), float('nan'), True, '1'):
        with pytest.raises(ValueError, match='aug_loss_weight'):
            MODELS.build(dict(type='NetAugDetector', detector=detector,
                              aug_loss_weight=alpha))
    plain = load_config('ssdlite_mbv2_w035_cards.py').model
    with pytest.raises(ValueError, match='detector.backbone'):
        MODELS.build(dict(type='NetAugDetector', detector=plain))
    # a Pretrained init_cfg where the tiny model would not get it
    pretrained = dict(type='Pretrained', checkpoint='tiny.pth')
    with pytest.raises(ValueError, match='"init_cfg" would not reach'):
        MODELS.build(dict(type='NetAugDetector', detector=detector,
                          init_cfg=pretrained))
    wrapped = dict(detector, backbone=dict(detector.backbone,
                                           init_cfg=pretrained))
    with pytest.raises(ValueError, match='"detector.backbone.init_cfg"'):
        MODELS.build(dict(type='NetAugDetector', detector=wrapped))


def test_a_pretrained_plain_backbone_reaches_the_tiny_model(tmp_path):
    """init_cfg on the plain backbone (where the refusal above points)
    initialises the tiny model's backbone."""
    from mmdet.registry import MODELS
    from conftest import load_config
    torch.manual_seed(3)
    plain = MODELS.build(load_config('ssdlite_mbv2_w035_cards.py').model)
    path = tmp_path / 'backbone.pth'
    torch.save(dict(state_dict=plain.backbone.state_dict()), path)
    torch.manual_seed(4)
    cfg = load_config('netaug_ssdlite_mbv2_cards.py')
    cfg.model.detector.backbone.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(path))
    model = MODELS.build(cfg.model)
    model.init_weights()
    tiny = model.export_plain().backbone.state_dict()
    for key, value in plain.backbone.state_dict().items():
        assert torch.equal(tiny[key], value), key


def test_sorting_keeps_the_largest_network_and_moves_optimizer_state():
    torch.manual_seed(0)
    model = build_model()
    net = model.supernet
    model.eval()
    images = torch.randn(1, 3, 320, 320)
    net.set_widths(net.largest_widths())
    before = model.detector._forward(images)
    # Give the optimizer a momentum buffer to follow the permutation.
    params = [p for m in model.modules() if isinstance(m, DynamicChannelMixin)
              for p in m.parameters(recurse=False)]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    for p in params:
        optimizer.state[p]['momentum_buffer'] = p.detach().clone()
        # a gradient accumulated over steps not applied yet
        # (accumulative_counts) follows the channels too
        p.grad = p.detach().clone()
    moved = net.sort_channels()
    assert moved, 'random weights are not already sorted'
    permute_optimizer_state(optimizer, moved)
    for p in params:  # the buffer still equals the (permuted) weights
        assert torch.equal(optimizer.state[p]['momentum_buffer'], p)
        assert torch.equal(p.grad, p)
    net.set_widths(net.largest_widths())
    after = model.detector._forward(images)
    for a, b in zip(before[0] + before[1], after[0] + after[1]):
        assert torch.allclose(a, b, atol=1e-5)
    # The tiny model now holds the most important hidden channels.
    block = model.detector.backbone.backbone.layer3[1]
    importance = block.linear_conv.conv.weight.abs().sum(dim=(0, 2, 3))
    assert torch.all(importance[:-1] >= importance[1:])


def test_reused_targets_give_identical_losses():
    from mmdet_netaug.models.target_reuse import reusable_target_methods
    torch.manual_seed(0)
    model = build_model()
    assert reusable_target_methods(model.detector.bbox_head) == (
        'get_anchors', 'get_targets')
    _driven(model, model.supernet.sample(random.Random(3)))
    images, samples = fake_batch(size=256)
    # count the head's own target computations (the cache patches over
    # this spy while replaying, and puts it back after)
    head = model.detector.bbox_head
    calls = {'get_anchors': 0, 'get_targets': 0}

    def spy(name):
        method = getattr(head, name)

        def counted(*args, **kwargs):
            calls[name] += 1
            return method(*args, **kwargs)
        return counted

    for name in calls:
        object.__setattr__(head, name, spy(name))
    reused = model.loss(images, samples)
    assert calls == {'get_anchors': 1, 'get_targets': 1}  # the tiny pass's
    model.target_cache.methods = ()  # compute the targets twice
    computed = model.loss(images, samples)
    assert calls == {'get_anchors': 3, 'get_targets': 3}
    assert reused.keys() == computed.keys()
    for key in reused:
        for a, b in zip(reused[key], computed[key]):
            assert torch.equal(a, b), key


def test_targets_of_a_drawing_sampler_are_not_reused():
    """A sampler that draws anchors at random would give the augmented
    pass the tiny pass's draw, not one of its own."""
    from mmdet_netaug.models.target_reuse import reusable_target_methods
    model = build_model(**{'model.detector.train_cfg.sampler': dict(
        type='RandomSampler', num=64, pos_fraction=0.25)})
    assert type(model.detector.bbox_head.sampler).__name__ == 'RandomSampler'
    assert reusable_target_methods(model.detector.bbox_head) == ()
    assert model.target_cache.methods == ()


def test_an_averaged_copy_follows_the_sorting():
    import copy
    from mmdet_netaug.models import permute_copy
    torch.manual_seed(0)
    model = build_model()
    ema = copy.deepcopy(model)
    moved = model.supernet.sort_channels()
    assert moved
    permute_copy(model, ema, moved)
    for (name, a), b in zip(model.state_dict().items(),
                            ema.state_dict().values()):
        assert torch.equal(a, b), name


def test_each_pass_is_asked_for_explicitly():
    """The tiny and the augmented pass are arguments of the loss, also
    through forward(mode='loss'); nothing else takes them."""
    torch.manual_seed(0)
    model = build_model()
    widths = model.supernet.sample(random.Random(3))
    images, samples = fake_batch()
    model.eval()  # fixed BN statistics: the passes are comparable
    both = model(images, samples, mode='loss', aug_widths=widths)
    tiny = model(images, samples, mode='loss', aug_widths=widths,
                 part='tiny')
    aug = model.loss(images, samples, aug_widths=widths, part='aug')
    assert set(both) == set(tiny) | set(aug)
    assert not set(tiny) & set(aug)
    for key in both:
        expected = (tiny if key in tiny else aug)[key]
        assert torch.allclose(_sum({'loss': both[key]}),
                              _sum({'loss': expected}))
    with pytest.raises(ValueError, match="part must be"):
        model.loss(images, samples, aug_widths=widths, part='wide')
    with pytest.raises(TypeError, match="only apply to mode='loss'"):
        model(images, samples, mode='tensor', part='tiny')
    with pytest.raises(TypeError, match='current_widths'):
        model.use_schedule(object())
