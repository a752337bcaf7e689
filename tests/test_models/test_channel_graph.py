"""Channel couplings derived from built models."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from conftest import build_model
from mmdet_netaug.models import (ChannelGraph, NetAugBackbone,
                                 UnsupportedModelError, WidthSpace)


def _trace(model, size=(1, 3, 16, 16)):
    x = torch.randn(*size)
    model.eval()
    return ChannelGraph.trace(model, lambda: model(x), [x])


def _group_of(graph, module_name, dim='outputs'):
    return getattr(graph.layers[module_name], dim)


def test_ssdlite_groups_follow_mobilenetv2_structure():
    graph = build_model().supernet.graph
    layers = graph.layers
    prefix = 'backbone.backbone.'
    # A residual block's output is tied to its input (one width).
    block0 = _group_of(graph, prefix + 'layer3.0.linear_conv.conv')
    block1 = _group_of(graph, prefix + 'layer3.1.linear_conv.conv')
    assert block0 == block1
    # Hidden channels of an inverted residual: inner, sortable; the
    # depthwise conv passes them through.
    hidden = _group_of(graph, prefix + 'layer3.1.expand_conv.conv')[0]
    assert graph.groups[hidden].inner and graph.groups[hidden].sortable
    dw = layers[prefix + 'layer3.1.depthwise_conv.conv']
    assert dw.depthwise and dw.inputs == dw.outputs == (hidden, )
    assert not graph.groups[block0[0]].inner
    # Its one producer is the expand conv (the depthwise conv only passes
    # them on); every block of a residual stage writes the stage's group.
    producers = graph.producers()
    assert [p.name for p in producers[hidden]] == [
        prefix + 'layer3.1.expand_conv.conv']
    assert layers[prefix + 'layer3.1.expand_conv.conv'].produces
    assert not dw.produces
    assert {p.name for p in producers[block0[0]]} >= {
        prefix + 'layer3.0.linear_conv.conv',
        prefix + 'layer3.1.linear_conv.conv'}
    # Backbone outputs feed the neck and the head: one group across them.
    out = _group_of(graph, prefix + 'conv2.conv')
    assert layers['bbox_head.cls_convs.1.0.conv'].inputs == out
    # Prediction convs keep their outputs; the image is never widened.
    pred = _group_of(graph, 'bbox_head.cls_convs.0.1')[0]
    assert graph.groups[pred].fixed
    stem = layers[prefix + 'conv1.conv']
    assert graph.groups[stem.inputs[0]].fixed


class _ConcatNet(nn.Module):
    """A YOLOv3-neck-like pattern: two producers concatenated."""

    def __init__(self):
        super().__init__()
        self.a = ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type='BN'))
        self.b = ConvModule(8, 16, 1, norm_cfg=dict(type='BN'))
        self.fuse = ConvModule(24, 8, 1, norm_cfg=dict(type='BN'))
        self.out = nn.Conv2d(8, 5, 1)

    def forward(self, x):
        a = self.a(x)
        b = self.b(a)
        up = nn.functional.interpolate(b, scale_factor=1.0)
        return self.out(self.fuse(torch.cat([a, up], 1)))


def test_concatenation_keeps_the_tiny_model_a_leading_slice():
    from mmdet_netaug.models import Supernet
    torch.manual_seed(0)
    model = _ConcatNet().eval()
    graph = _trace(model)
    fuse = graph.layers['fuse.conv']
    assert len(fuse.inputs) == 2  # two segments
    assert not any(graph.groups[g].sortable for g in fuse.inputs)
    x = torch.randn(1, 3, 16, 16)
    reference = model(x)
    net = Supernet(model, graph, WidthSpace([1.0, 2.0], expand_choices=[1.0, 2.0]))
    assert torch.equal(model(x), reference)
    # A wide sub-network runs with consistent shapes through the concat.
    net.set_widths(net.largest_widths())
    assert model(x).shape == reference.shape
    index = model.fuse.conv.active_in
    assert index.tolist() == list(range(0, 8)) + list(range(24, 32)) + list(
        range(8, 24)) + list(range(32, 48))
    net.set_tiny()
    assert torch.equal(net.export()(x), reference)


def test_unsupported_layer_is_named():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.GroupNorm(2, 8),
                          nn.Conv2d(8, 4, 1))
    with pytest.raises(UnsupportedModelError, match=r'1 \(GroupNorm\)'):
        _trace(model)


def test_channel_shuffle_fixes_the_channels_it_mixes():
    class Shuffle(nn.Module):

        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(3, 8, 1)
            self.b = nn.Conv2d(8, 4, 1)

        def forward(self, x):
            y = self.a(x)
            n, c, h, w = y.shape
            y = y.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
            return self.b(y)

    graph = _trace(Shuffle())
    assert all(g.fixed for g in graph.groups)


def test_width_space_options_are_checked():
    assert WidthSpace(augment_factor=3,
                      diversity_factor=2).width_choices == [1.0, 2.0, 3.0]
    for kwargs, field in [(dict(width_choices=[]), 'width_choices'),
                          (dict(width_choices=[1.2, 2.0]), 'width_choices'),
                          (dict(expand_choices=[1.0, 0.5]), 'expand_choices'),
                          (dict(augment_factor=0.5, diversity_factor=2),
                           'augment_factor'),
                          (dict(augment_factor=2), 'diversity_factor'),
                          (dict(expand_from_input='yes'),
                           'expand_from_input')]:
        with pytest.raises(ValueError, match=field):
            WidthSpace(**kwargs)
    space = WidthSpace([1.0, 1.8, 2.6])
    assert space.widths(32, inner=False) == [32, 56, 80]
    assert space.widths(96, inner=True) == [96, 152, 208, 272]
    assert space.widths(10, inner=False, fixed=True) == [10]
    # Grouped convolutions (4 channels a group): multiples of both 8 and 4,
    # as near the multiplier as plain groups (not rounded to 32).
    assert space.widths(32, inner=False, multiple_of=4) == [32, 56, 80]
    assert space.widths(24, inner=False, multiple_of=12) == [24, 48, 72]


def test_expand_from_input_scales_hidden_channels_with_their_input():
    """expand_from_input: a block's hidden width is its base width times
    an expand choice times its input's sampled width over the input's base
    width, as in the NetAug authors' MobileNetV2; the tiny model and the
    hidden widths at the base input width stay as without it."""
    import random
    from conftest import fake_batch
    plain = build_model().supernet
    model = build_model(**{'model.detector.backbone.expand_from_input': True})
    net, graph = model.supernet, model.supernet.graph
    assert plain.expand_inputs == {}
    assert net.tiny_widths() == plain.tiny_widths()
    prefix = 'backbone.backbone.layer3.1.'
    hidden = graph.layers[prefix + 'expand_conv.conv'].outputs[0]
    assert net.expand_inputs[hidden] == graph.layers[
        prefix + 'expand_conv.conv'].inputs
    assert set(net.expand_inputs) == {
        g.index for g in graph.groups if g.inner}  # MobileNetV2: all of them
    space = net.space
    rng, wider = random.Random(0), False
    for step in range(30):
        widths = net.sample(rng, augment_width=step % 3 != 0)
        for g, inputs in net.expand_inputs.items():
            base = graph.groups[g].base_width
            ratio = (sum(widths[i] for i in inputs)
                     / sum(graph.groups[i].base_width for i in inputs))
            if ratio == 1:  # the input at its base width: as without it
                assert widths[g] in plain.choices[g]
            assert widths[g] in net.choices[g]
            assert widths[g] in {base} | {
                space.scale(base, e * ratio) for e in space.expand_choices}
            wider |= widths[g] > plain.choices[g][-1]
    assert wider  # wider inputs widen the hidden channels beyond 2.8x
    images, samples = fake_batch(size=160)
    net.set_widths(widths)  # a sampled one trains
    loss, _ = model.parse_losses(model.detector.loss(images, samples))
    loss.backward()
    assert torch.isfinite(loss)
    model.eval()
    net.set_widths(net.largest_widths())
    largest = model.detector._forward(images)
    net.sort_channels()  # the largest sub-network computes the same
    for a, b in zip(largest[0], model.detector._forward(images)[0]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # the tiny model exports as a plain one with the same outputs
    net.set_tiny()
    tiny = model.detector._forward(images)
    for a, b in zip(tiny[0], net.export()._forward(images)[0]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # a hidden width its inputs' widths cannot give is refused
    g, inputs = next(iter(net.expand_inputs.items()))
    impossible = list(net.tiny_widths())
    impossible[g] = net.choices[g][-1]  # inputs at their tiny widths
    with pytest.raises(ValueError, match=graph.groups[g].name):
        net.set_widths(impossible)
    # a checkpoint of the default supernet does not fit this one
    from mmdet_netaug.models.checkpoint_fit import (CheckpointMismatchError,
                                                    check_checkpoint_fits)
    with pytest.raises(CheckpointMismatchError, match='other shapes'):
        check_checkpoint_fits(model, build_model().state_dict(), 'default',
                              resume=True)


def test_backbone_wrapper_rejects_bad_fields():
    with pytest.raises(ValueError, match='"backbone"'):
        NetAugBackbone(backbone='MobileNetV2')
    with pytest.raises(ValueError, match='first choice must be 1.0'):
        NetAugBackbone(backbone=dict(type='MobileNetV2'),
                       width_choices=[2.0, 3.0])


class _GatedConcatNet(nn.Module):
    """A CSPNeXt-like block: two branches concatenated, a channel-attention
    gate computed from the concatenation multiplies it (``x * gate(x)``),
    a 1x1 convolution fuses it."""

    def __init__(self, tie_gate_to_other=False, gate_first=False,
                 return_gated=False):
        super().__init__()
        self.a = ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type='BN'))
        self.b = ConvModule(8, 8, 1, norm_cfg=dict(type='BN'))
        self.fc = nn.Conv2d(16, 16, 1)
        self.other = nn.Conv2d(3, 16, 1)
        self.fuse = ConvModule(16, 8, 1, norm_cfg=dict(type='BN'))
        self.out = nn.Conv2d(8, 5, 1)
        self.tie_gate_to_other = tie_gate_to_other
        self.gate_first = gate_first
        self.return_gated = return_gated

    def forward(self, x):
        a = self.a(x)
        y = torch.cat([a, self.b(a)], 1)
        gate = nn.functional.hardsigmoid(
            self.fc(nn.functional.adaptive_avg_pool2d(y, 1)))
        if self.tie_gate_to_other:  # the gate's channels are tied already
            gate = gate + self.other(x)[:, :, :1, :1]
        gated = gate * y if self.gate_first else y * gate
        out = self.out(self.fuse(gated))
        return (out, gated) if self.return_gated else out


def test_a_gate_over_a_concatenation_takes_its_segments():
    """RTMDet's channel attention: the gate's 1x1 convolution writes its
    channels in the concatenation's segmented layout, so the tiny model is
    the leading slice of every segment and the gate follows them."""
    from mmdet_netaug.models import Supernet
    torch.manual_seed(0)
    model = _GatedConcatNet().eval()
    graph = _trace(model)
    fc = graph.layers['fc']
    assert len(fc.inputs) == 2 and fc.outputs == fc.inputs
    assert graph.layers['fuse.conv'].inputs == fc.inputs
    assert not any(graph.groups[g].fixed for g in fc.outputs)
    x = torch.randn(1, 3, 16, 16)
    reference = model(x)
    net = Supernet(model, graph, WidthSpace([1.0, 2.0],
                                            expand_choices=[1.0, 2.0]))
    assert torch.equal(model(x), reference)
    net.set_widths(net.largest_widths())
    wide = model(x)
    assert wide.shape == reference.shape and not torch.equal(wide, reference)
    # the gate's outputs are selected like the concatenation it gates
    assert torch.equal(model.fc.active_out, model.fuse.conv.active_in)
    net.set_tiny()
    exported = net.export()
    assert exported.fc.weight.shape == (16, 16, 1, 1)
    assert torch.equal(exported(x), reference)


@pytest.mark.parametrize('gate_first', [False, True],
                         ids=['x*gate', 'gate*x'])
def test_gated_channels_that_leave_the_model_stay_fixed(gate_first):
    """The gated concatenation is also a model output, so its channels
    (the segments the gate was split into) cannot be widened, whichever
    side of the product the gate is on."""
    graph = _trace(_GatedConcatNet(gate_first=gate_first, return_gated=True))
    fc = graph.layers['fc']
    assert len(fc.outputs) == 2
    assert all(graph.groups[g].fixed for g in fc.outputs)
    assert graph.layers['fuse.conv'].inputs == fc.outputs


def test_a_gate_whose_channels_are_tied_elsewhere_is_refused():
    with pytest.raises(UnsupportedModelError,
                       match=r'laid out as \[8, 8\] with channels laid out '
                       r'as \[16\]'):
        _trace(_GatedConcatNet(tie_gate_to_other=True))


def _refused_layers():
    from mmcv.cnn import ConvWS2d
    from mmcv.ops import DeformConv2dPack, ModulatedDeformConv2dPack
    return [
        (lambda: nn.GroupNorm(2, 8), r'4 \(GroupNorm\).*group_norm'),
        (lambda: nn.LayerNorm([8, 16, 16]), r'4 \(LayerNorm\).*layer_norm'),
        (lambda: nn.PReLU(8), r'4 \(PReLU\).*prelu'),
        (lambda: DeformConv2dPack(8, 8, 3, padding=1),
         r'4 \(DeformConv2dPack\)'),
        (lambda: ModulatedDeformConv2dPack(8, 8, 3, padding=1),
         r'4 \(ModulatedDeformConv2dPack\)'),
        (lambda: ConvWS2d(8, 8, 3, padding=1),
         'weight-standardised convolutions are not supported'),
    ]


@pytest.mark.parametrize('make, message', _refused_layers(),
                         ids=['GroupNorm', 'LayerNorm', 'PReLU', 'DeformConv',
                              'ModulatedDeformConv', 'ConvWS'])
def test_the_layers_the_readme_lists_as_refused_are_named(make, message):
    """Every refused layer of the README's list stops the trace with an
    error naming it (between two widened convolutions)."""
    model = nn.Sequential(nn.Conv2d(3, 8, 1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.Conv2d(8, 8, 1), make(), nn.Conv2d(8, 4, 1))
    with pytest.raises(UnsupportedModelError, match=message):
        _trace(model)


def test_expand_from_input_does_not_compound_along_hidden_chains():
    """YOLOv3's detection blocks chain hidden channels: only those read
    from channels between blocks follow their input; the supernet stays
    within a small factor of the uncoupled one (compounded, it grew from
    3.2 million to 500 million parameters)."""
    name = 'netaug_yolov3_mbv2_cards_224.py'
    plain = build_model(name)
    model = build_model(name, **{
        'model.detector.backbone.expand_from_input': True})
    groups = model.supernet.graph.groups
    coupled = model.supernet.expand_inputs
    assert 0 < len(coupled) < sum(g.inner for g in groups)
    assert not any(groups[i].inner for inputs in coupled.values()
                   for i in inputs)
    size = [sum(p.numel() for p in m.parameters()) for m in (plain, model)]
    assert size[0] < size[1] < 3 * size[0]
    # hidden channels read from a concatenation follow their inputs' sum
    import random
    from conftest import fake_batch
    net = model.supernet
    assert any(len(inputs) > 1 for inputs in coupled.values())
    images, _ = fake_batch(size=160)
    model.eval()
    rng = random.Random(0)
    for widths in [net.sample(rng) for _ in range(3)] + [
            net.largest_widths()]:
        net.set_widths(widths)
        model.detector._forward(images)
