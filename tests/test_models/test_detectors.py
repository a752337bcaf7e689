"""NetAug on every supported detector config: the tiny model converts and
exports losslessly, and every sampled sub-network trains.

Each case builds the NetAug config's model once (module scope). Its weights
and BatchNorm statistics are first filled with random values, so that any
export that took a wrong slice of the widest tensors would show.
"""
import io
import random
import re
from typing import NamedTuple, Tuple

import pytest
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils._pytree import tree_flatten

from conftest import REPO, build_model, fake_batch, load_config
from mmdet_netaug.ops import DynamicChannelMixin, DynamicSyncBatchNorm


class Case(NamedTuple):
    """A NetAug config and what its traced graph must show."""
    config: str
    baseline: str  # the plain config it inherits
    size: int  # test image size (small: the file must stay fast on CPU)
    hidden: Tuple[str, ...]  # layers producing block-hidden (inner) channels
    predictions: str  # regex of the head's prediction convs (fixed outputs)
    concat: bool  # the neck (or backbone) concatenates widened tensors


CASES = [
    # the neck's extra layers: a 1x1 conv, then a depthwise-separable 3x3
    # (one layer, not a block), so the 1x1's output is hidden
    Case('netaug_ssdlite_mbv2_cards.py', 'ssdlite_mbv2_w035_cards.py', 320,
         ('backbone.backbone.layer3.1.expand_conv.conv',
          'neck.extra_layers.0.0.conv'),
         r'bbox_head\.(cls|reg)_convs\.\d+\.1$', False),
    Case('netaug_ssdlite_mbv2_hardshapes.py',
         'ssdlite_mbv2_w035_hardshapes.py', 224,
         ('backbone.backbone.layer3.1.expand_conv.conv', ),
         r'bbox_head\.(cls|reg)_convs\.\d+\.1$', False),
    Case('netaug_ssdlite_mbv2_w100_cards.py', 'ssdlite_mbv2_w100_cards.py',
         128, ('backbone.backbone.layer7.0.expand_conv.conv', ),
         r'bbox_head\.(cls|reg)_convs\.\d+\.1$', False),
    Case('netaug_yolov3_mbv2_cards.py', 'yolov3_mbv2_w035_cards.py', 128,
         ('backbone.backbone.layer3.1.expand_conv.conv',
          'neck.detect2.conv2.conv', 'bbox_head.convs_bridge.0.conv'),
         r'bbox_head\.convs_pred\.\d+$', True),
    Case('netaug_yolov3_mbv2_320_coco.py', 'yolov3_mbv2_w035_320_coco.py',
         128, ('neck.detect1.conv4.conv', ), r'bbox_head\.convs_pred\.\d+$',
         True),
    Case('netaug_yolov3_mbv2_416_coco.py', 'yolov3_mbv2_w035_416_coco.py',
         128, ('neck.detect3.conv2.conv', ), r'bbox_head\.convs_pred\.\d+$',
         True),
    Case('netaug_yolox_tiny_coco.py', 'yolox_tiny_coco.py', 128,
         ('backbone.backbone.stage2.1.blocks.0.conv1.conv',
          'neck.top_down_blocks.0.short_conv.conv',
          'bbox_head.multi_level_cls_convs.0.0.conv'),
         r'bbox_head\.multi_level_conv_(cls|reg|obj)\.\d+$', True),
    Case('netaug_yolox_tiny_cards.py', 'yolox_tiny_cards.py', 128,
         ('backbone.backbone.stage4.1.conv1.conv', ),
         r'bbox_head\.multi_level_conv_(cls|reg|obj)\.\d+$', True),
    # CSPNeXt's channel attention gates a concatenation; the head's
    # convolutions are shared across levels (share_conv); a CSPNeXt block's
    # conv1 feeds its depthwise-separable conv2 (hidden channels).
    Case('netaug_rtmdet_tiny_cards.py', 'rtmdet_tiny_cards.py', 128,
         ('backbone.backbone.stage2.1.short_conv.conv',
          'bbox_head.cls_convs.0.0.conv',
          'backbone.backbone.stage2.1.blocks.0.conv1.conv',
          'neck.top_down_blocks.0.blocks.0.conv1.conv'),
         r'bbox_head\.rtm_(cls|reg)\.\d+$', True),
    Case('netaug_rtmdet_w025_coco.py', 'rtmdet_w025_coco.py', 128,
         ('neck.top_down_blocks.0.short_conv.conv', ),
         r'bbox_head\.rtm_(cls|reg)\.\d+$', True),
]


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """Many tiny convolutions of changing shapes: one CPU thread is several
    times faster than two (and far faster when other jobs share the
    cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _randomise(model: nn.Module, seed: int = 0) -> None:
    """Trained-looking weights and statistics in the *whole* widest tensors."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                n = module.num_features
                module.weight.copy_(1 + 0.1 * torch.randn(n, generator=g))
                module.bias.copy_(0.1 * torch.randn(n, generator=g))
                module.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                module.running_var.copy_(0.5 + torch.rand(n, generator=g))
            elif isinstance(module, nn.Conv2d):
                module.weight.add_(
                    0.01 * torch.randn(module.weight.shape, generator=g))
                if module.bias is not None:
                    module.bias.add_(
                        0.01 * torch.randn(module.bias.shape, generator=g))


@pytest.fixture(scope='module', params=CASES, ids=lambda c: c.config[:-3])
def case(request):
    """A case and its built NetAug model."""
    model = build_model(request.param.config)
    _randomise(model)
    return request.param, model


def _outputs(model, images):
    model.eval()
    with torch.no_grad():
        return tree_flatten(model._forward(images))[0]


def _shapes(module: nn.Module) -> dict:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_tiny_model_exports_losslessly(case):
    case, model = case
    images = torch.randn(2, 3, case.size, case.size)
    reference = _outputs(model, images)

    exported = model.export_plain()
    assert not any(
        isinstance(m, DynamicChannelMixin) for m in exported.modules())
    # The exported state dict loads strictly into stock mmdet's detector,
    # also after a trip through a file (as a released checkpoint would).
    buffer = io.BytesIO()
    torch.save(exported.state_dict(), buffer)
    buffer.seek(0)
    stock = MODELS.build(model.plain_detector_config())
    stock.load_state_dict(torch.load(buffer, weights_only=True), strict=True)
    for plain in (exported, stock):
        outputs = _outputs(plain, images)
        assert len(outputs) == len(reference)
        assert all(torch.equal(a, b) for a, b in zip(outputs, reference))
    # ... and it is the model of the plain baseline config, key for key.
    baseline = MODELS.build(load_config(case.baseline).model)
    assert _shapes(stock) == _shapes(baseline)


def test_graph_groups_are_sensible(case):
    case, model = case
    graph = model.supernet.graph
    groups, layers = graph.groups, graph.layers
    stem = next(iter(layers.values()))
    assert all(groups[g].fixed for g in stem.inputs)  # the image
    predictions = [n for n in layers if re.search(case.predictions, n)]
    assert len(predictions) >= 3
    for name in predictions:  # what the head returns is never widened
        assert all(groups[g].fixed for g in layers[name].outputs), name
    for name in case.hidden:  # hidden channels take the expand choices
        (hidden, ) = layers[name].outputs
        assert groups[hidden].inner and not groups[hidden].fixed, name
    assert any(not g.fixed and not g.inner for g in groups)
    choices = model.supernet.choices
    assert all(len(choices[g.index]) > 1 for g in groups if not g.fixed)


def test_concatenations_keep_the_tiny_model_a_leading_slice(case):
    case, model = case
    graph, supernet = model.supernet.graph, model.supernet
    concatenated = {
        name: layer
        for name, layer in graph.layers.items() if len(layer.inputs) > 1
        and any(not graph.groups[g].fixed for g in layer.inputs)
    }
    if not case.concat:
        assert not concatenated
        return
    assert concatenated
    try:
        for name, layer in concatenated.items():
            module = model.detector.get_submodule(name)
            for widths in (supernet.tiny_widths(), supernet.largest_widths()):
                supernet.set_widths(widths)
                index = module.active_in
                if isinstance(index, int):  # a leading slice: tiny only
                    assert widths == supernet.tiny_widths()
                    index = torch.arange(index)
                assert len(index) == sum(widths[g] for g in layer.inputs)
                assert len(set(index.tolist())) == len(index)
                if widths == supernet.tiny_widths():
                    assert index.tolist() == list(range(len(index)))
                else:  # widened segments interleave: an explicit index
                    assert index.tolist() != list(range(len(index)))
    finally:
        supernet.set_tiny()


def test_sampled_sub_networks_train(case):
    case, model = case
    supernet = model.supernet
    head = model.detector.bbox_head
    images, samples = fake_batch(
        num_classes=head.num_classes, size=case.size, seed=1)
    rng = random.Random(0)
    candidates = [supernet.sample(rng) for _ in range(3)]
    candidates.append(supernet.largest_widths())
    shapes = []
    hook = head.register_forward_hook(lambda m, args, out: shapes.append(
        [tuple(t.shape) for t in tree_flatten(out)[0]]))
    model.train()
    try:
        for widths in candidates:
            assert widths != supernet.tiny_widths()
            model.zero_grad(set_to_none=True)
            shapes.clear()
            losses = model.loss(images, samples, aug_widths=widths)
            assert any(k.startswith('aug_') for k in losses)
            total = sum(tree_flatten(
                [v for k, v in losses.items() if 'loss' in k])[0])
            assert torch.isfinite(total), (widths, losses)
            total.backward()
            # Tiny and augmented passes give head outputs of one shape.
            assert len(shapes) == 2 and shapes[0] == shapes[1]
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            assert all(torch.isfinite(g).all() for g in grads)
            # The augmented pass reached channels beyond the tiny model's.
            assert any(
                m.weight.grad is not None
                and m.weight.grad[m.base_out_channels:].abs().sum() > 0
                for m in model.modules() if isinstance(m, nn.Conv2d)
                and isinstance(m, DynamicChannelMixin))
            assert supernet.widths == supernet.tiny_widths()
    finally:
        hook.remove()
        model.zero_grad(set_to_none=True)


def _netaug_configs():
    return sorted(p.name for p in (REPO / 'configs').glob('netaug_*.py')
                  if not p.name.startswith('netaug_kd_'))


@pytest.mark.parametrize('name', _netaug_configs())
def test_netaug_config_wraps_its_baseline_unchanged(name):
    """A NetAug twin changes nothing of its plain baseline but the wrapper
    around the model, one more hook, the DDP wrapper (mmengine's default
    settings, NetAug's train_step) and a gradient clip scaled for the
    summed loss. The stanza comes from configs/_base_/netaug.py."""
    text = (REPO / 'configs' / name).read_text()
    # the plain config, and NetAug's stanza from its one place
    baseline_name = re.search(
        r"^_base_ = \['\./(.+\.py)', '\./_base_/netaug\.py'\]", text,
        re.M).group(1)
    netaug, baseline = load_config(name), load_config(baseline_name)
    assert netaug.model.type == 'NetAugDetector'
    detector = netaug.model.detector.to_dict()
    backbone = detector.pop('backbone')
    assert backbone['type'] == 'NetAugBackbone'
    plain = baseline.model.to_dict()
    assert backbone['backbone'] == plain.pop('backbone')
    assert detector == plain
    hooks = [h['type'] for h in netaug.custom_hooks]
    assert hooks == [h['type'] for h in baseline.get('custom_hooks', [])
                     ] + ['NetAugHook']
    assert netaug.model_wrapper_cfg == dict(
        type='NetAugDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=baseline.get('find_unused_parameters', False))
    for key in ('train_dataloader', 'val_dataloader', 'val_evaluator',
                'train_cfg', 'param_scheduler'):
        assert netaug.get(key) == baseline.get(key), key
    # the optimiser too, but a gradient clip is scaled by (1 + alpha): the
    # clipped update has room for the augmented gradient besides the tiny
    # model's (when it is always clipped, as YOLOv3's)
    optim, plain_optim = (netaug.optim_wrapper.to_dict(),
                          baseline.optim_wrapper.to_dict())
    if 'clip_grad' in plain_optim:
        alpha = netaug.model.get('aug_loss_weight', 1.0)
        assert optim['clip_grad'].pop('max_norm') == \
            plain_optim['clip_grad'].pop('max_norm') * (1 + alpha)
    assert optim == plain_optim


def test_wide_control_is_mmdets_own_ssdlite():
    """The width-1.0 control is mmdet's SSDLite-MobileNetV2, 6 classes."""
    from mmengine.hub import get_config
    stock = get_config(
        'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py').model
    stock.bbox_head.num_classes = 6
    control = MODELS.build(load_config('ssdlite_mbv2_w100_cards.py').model)
    assert _shapes(control) == _shapes(MODELS.build(stock))


def test_sync_batchnorm_detector_converts_and_trains():
    """SyncBN layers become DynamicSyncBatchNorm (plain BatchNorm without a
    process group) and export back to nn.SyncBatchNorm."""
    sync = dict(type='SyncBN')
    model = build_model(
        'netaug_yolov3_mbv2_cards.py', **{
            'model.detector.backbone.backbone.norm_cfg': sync,
            'model.detector.neck.norm_cfg': sync,
            'model.detector.bbox_head.norm_cfg': sync
        })
    _randomise(model)
    assert any(isinstance(m, DynamicSyncBatchNorm) for m in model.modules())
    images, samples = fake_batch(size=96)
    reference = _outputs(model, images)
    exported = model.export_plain()
    assert any(isinstance(m, nn.SyncBatchNorm) for m in exported.modules())
    assert all(
        torch.equal(a, b)
        for a, b in zip(_outputs(exported, images), reference))
    model.train()
    losses = model.loss(images, samples,
                        aug_widths=model.supernet.largest_widths())
    assert all(torch.isfinite(v).all() for v in tree_flatten(losses)[0])


class _ChannelScale(nn.Module):
    """Conv, then a per-channel scale written the usual ways (mmdet's
    L2Norm, or a layer scale ``x * weight.view(1, -1, 1, 1)``)."""

    def __init__(self, how: str):
        super().__init__()
        from mmdet.models.necks.ssd_neck import L2Norm
        self.how = how
        self.a = nn.Conv2d(3, 8, 1)
        self.b = nn.Conv2d(8, 8, 3, padding=1)
        self.l2_norm = L2Norm(8)
        self.scale = nn.Parameter(torch.rand(8))
        self.out = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        y = self.b(torch.relu(self.a(x)))
        if self.how == 'l2norm':
            y = self.l2_norm(y)
        elif self.how == 'view':
            y = y * self.scale.view(1, -1, 1, 1)
        else:
            y = y * self.scale[None, :, None, None]
        return self.out(y)


@pytest.mark.parametrize('how', ['l2norm', 'view', 'index'])
def test_reshaped_per_channel_parameter_keeps_its_channels_fixed(how):
    from mmdet_netaug.models import ChannelGraph, Supernet, WidthSpace
    model = _ChannelScale(how).eval()
    x = torch.randn(2, 3, 8, 8)
    reference = model(x)
    graph = ChannelGraph.trace(model, lambda: model(x), [x])
    scaled = graph.layers['b'].outputs[0]
    assert graph.groups[scaled].fixed
    assert not graph.groups[graph.layers['a'].outputs[0]].fixed
    supernet = Supernet(model, graph, WidthSpace([1.0, 2.0]))
    supernet.set_widths(supernet.largest_widths())
    assert model(x).shape == reference.shape  # the widened model runs
    supernet.set_tiny()
    assert torch.equal(model(x), reference)


def test_rtmdet_head_keeps_sharing_its_convolutions():
    """RTMDet's head shares each convolution across levels, with one
    BatchNorm per level: widening and export keep one shared layer."""
    model = build_model('netaug_rtmdet_tiny_cards.py')
    head = model.detector.bbox_head
    exported = model.export_plain().bbox_head
    for convs in ('cls_convs', 'reg_convs'):
        for i in range(head.stacked_convs):
            for level in range(1, len(head.prior_generator.strides)):
                for h in (head, exported):
                    assert (getattr(h, convs)[level][i].conv is
                            getattr(h, convs)[0][i].conv)
                    assert (getattr(h, convs)[level][i].bn is not
                            getattr(h, convs)[0][i].bn)
    assert isinstance(head.cls_convs[1][0].conv, DynamicChannelMixin)
    assert not isinstance(exported.cls_convs[1][0].conv, DynamicChannelMixin)
    # its assigner looks at the predictions: targets are assigned per pass
    assert model.target_cache.methods == ()


@pytest.mark.parametrize('config, names', [
    ('netaug_ssdlite_mbv2_cards_224.py',
     [f'neck.extra_layers.{i}.0.conv' for i in range(4)]),
    ('netaug_rtmdet_tiny_cards.py',
     [f'backbone.backbone.stage{i}.{j}.blocks.0.conv1.conv'
      for i, j in ((1, 1), (2, 1), (3, 1), (4, 2))]
     + ['neck.top_down_blocks.0.blocks.0.conv1.conv',
        'neck.bottom_up_blocks.1.blocks.0.conv1.conv']),
])
def test_a_depthwise_separable_conv_is_one_layer(config, names):
    """mmcv's DepthwiseSeparableConvModule (a depthwise and a pointwise
    conv) stands for one convolution, not a block: the channels a block
    feeds into it are that block's hidden channels, which take the expand
    choices and are sorted by importance (RTMDet's CSPNeXt blocks, SSDLite's
    neck extra layers). Counted as a block, they were between-block
    channels: width choices, never sorted, no longer augmented after the
    width augmentation stops."""
    model = build_model(config)
    graph, choices = model.supernet.graph, model.supernet.choices
    for name in names:
        (index, ) = graph.layers[name].outputs
        group = graph.groups[index]
        assert group.inner and group.sortable, name
        assert len(choices[index]) == 4, name  # the expand choices
