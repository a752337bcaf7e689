"""Which channels of a built model are coupled, derived by tracing it.

One forward pass of the plain (tiny) model runs under a
:class:`~torch.overrides.TorchFunctionMode` that follows every tensor's
channel dimension (dim 1) back to the layers that produced it. A *source* is
the output channels of one convolution (or the network input); a tensor's
*descriptor* is the list of sources its channels come from, in order (more
than one after a concatenation). From the trace:

* an element-wise op on two tensors (a residual addition, a gate) ties their
  sources together: they must keep one width;
* a depthwise convolution passes its input's sources through;
* a grouped convolution with equal channels per group in and out ties its
  input and output width;
* channels that leave the traced world (a reshape, a permute, the model's
  outputs, the input image) are fixed and never widened.

Sources tied together form a :class:`ChannelGroup`: the unit that takes one
width at a time. Nothing here is specific to an architecture: the couplings
of MobileNetV2's residuals, SSD's depthwise heads and YOLOv3's concatenations
all come out of the same rules (the tracing itself:
:mod:`.channel_tracing`).
"""
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import DepthwiseSeparableConvModule
from torch.utils._pytree import tree_flatten

from .channel_tracing import ChannelTracer, UnsupportedModelError

__all__ = ['ChannelGraph', 'ChannelGroup', 'LayerChannels',
           'UnsupportedModelError']


@dataclass
class ChannelGroup:
    """Channels that always take one width together.

    Attributes:
        index (int): Position in :attr:`ChannelGraph.groups`.
        name (str): The first module that produces these channels.
        base_width (int): Width in the tiny model.
        fixed (bool): Never widened (model input or output, reshaped, or a
            layer that cannot be widened).
        inner (bool): The channels stay inside one block (neither its input
            nor its output), like an inverted residual's hidden channels;
            they take the expand choices, the others the width choices.
        sortable (bool): Channels may be reordered by importance (single
            producer, no concatenation, no grouped convolution).
        multiple_of (int): Every width must be a multiple of this (channels
            per group of a grouped convolution).
        modules (list[str]): Names of the modules with a dim in the group.
    """
    index: int
    name: str
    base_width: int
    fixed: bool = False
    inner: bool = False
    sortable: bool = True
    multiple_of: int = 1
    modules: List[str] = field(default_factory=list)


@dataclass
class LayerChannels:
    """The channel descriptors of one convertible layer.

    ``inputs`` and ``outputs`` are tuples of group indices, one per segment
    (several for a concatenated input). A norm layer has ``inputs ==
    outputs``; so does a depthwise convolution. ``produces`` marks a
    convolution that writes new channels (any but a depthwise one).
    """
    name: str
    inputs: Tuple[int, ...]
    outputs: Tuple[int, ...]
    depthwise: bool = False
    produces: bool = False


@dataclass
class ChannelGraph:
    """The channel groups of a model and the layers that use them.

    Build it with :meth:`trace`. ``layers`` maps a module name to its
    :class:`LayerChannels`; ``groups`` lists the :class:`ChannelGroup`.
    """
    groups: List[ChannelGroup]
    layers: Dict[str, LayerChannels]

    @classmethod
    def trace(cls, model: nn.Module, forward: Callable[[], object],
              inputs: Sequence[torch.Tensor]) -> 'ChannelGraph':
        """Trace ``forward()`` (which must consume ``inputs``) on ``model``.

        Args:
            model (nn.Module): The plain model; its layers are not changed.
            forward (callable): Runs the part of the model to widen, e.g.
                ``lambda: detector._forward(img)``.
            inputs (list[Tensor]): The input tensors; their channels and the
                returned tensors' channels are fixed.
        """
        tracer = ChannelTracer(model)
        for k, x in enumerate(inputs):
            tracer.set_desc(x, (tracer.new_source(x.shape[1], f'input {k}',
                                                  True), ))
        hooks = []
        for module in model.modules():
            hooks.append(module.register_forward_pre_hook(
                lambda m, args, t=tracer: t.module_io[m].update(
                    s for a in tree_flatten(args)[0]
                    for s in (t.get_desc(a) or ()))))
            hooks.append(module.register_forward_hook(
                lambda m, args, out, t=tracer: t.module_io[m].update(
                    s for a in tree_flatten(out)[0]
                    for s in (t.get_desc(a) or ()))))
        try:
            with torch.no_grad(), tracer:
                outputs = forward()
        finally:
            for h in hooks:
                h.remove()
        tracer.fix_tensors(tree_flatten(outputs)[0])
        return cls._build(tracer)

    @classmethod
    def _build(cls, tracer: ChannelTracer) -> 'ChannelGraph':
        find = tracer.sets.find
        roots: Dict[int, int] = {}  # root source -> group index
        groups: List[ChannelGroup] = []
        for sid in range(len(tracer.size)):
            if sid in tracer.split:
                continue  # replaced by its segments
            root = find(sid)
            if root not in roots:
                roots[root] = len(groups)
                groups.append(ChannelGroup(len(groups),
                                           tracer.source_name[root],
                                           tracer.size[root]))
            group = groups[roots[root]]
            if tracer.size[sid] != group.base_width:
                raise UnsupportedModelError(
                    f'{tracer.source_name[sid]}: {tracer.size[sid]} channels '
                    f'are tied to {group.name} with {group.base_width}')
            group.fixed |= sid in tracer.fixed_sources
            group.multiple_of = math.lcm(group.multiple_of,
                                         tracer.multiple_of[sid])
            if sid in tracer.grouped_sources:
                group.sortable = False

        def to_groups(desc):
            return tuple(roots[find(s)] for s in tracer.expand(desc))

        layers: Dict[str, LayerChannels] = {}
        for module in tracer.call_order:
            name = tracer.names[module]
            inputs = to_groups(tracer.layer_inputs[module])
            if isinstance(module, nn.Conv2d) and module not in (
                    tracer.depthwise):
                outputs = to_groups((tracer.conv_source[module], ))
                layer = LayerChannels(name, inputs, outputs, produces=True)
            else:
                layer = LayerChannels(name, inputs, inputs,
                                      depthwise=module in tracer.depthwise)
            layers[name] = layer
            for g in set(layer.inputs + layer.outputs):
                groups[g].modules.append(name)
            if len(inputs) > 1:  # concatenated: keep channel order as is
                for g in inputs:
                    groups[g].sortable = False
        # Channels no convolution reads (e.g. a backbone stage whose output
        # the neck ignores) would only cost compute when widened.
        read = {g for layer in layers.values() if not layer.depthwise
                and layer.inputs != layer.outputs for g in layer.inputs}
        for group in groups:
            if group.index not in read:
                group.fixed = True
        graph = cls(groups, layers)
        graph._classify(tracer, roots)
        return graph

    def producers(self) -> Dict[int, List[LayerChannels]]:
        """The convolutions that write each group's channels, by group
        index (groups no convolution writes, like the input, are absent)."""
        found: Dict[int, List[LayerChannels]] = defaultdict(list)
        for layer in self.layers.values():
            if layer.produces:
                for g in layer.outputs:
                    found[g].append(layer)
        return dict(found)

    def _classify(self, tracer, roots) -> None:
        """Mark inner groups: channels that never cross a block's boundary.

        A block is a module holding two or more convolutions (an inverted
        residual, a detection block, a whole backbone); a conv-norm-act
        module is not, nor is mmcv's ``DepthwiseSeparableConvModule``, a
        drop-in for one convolution (as in RTMDet's CSPNeXt blocks and
        SSDLite's neck). Channels seen at no block's input or output are the
        block's hidden channels: they take the expand choices and may be
        reordered by importance when one layer alone produces them.
        """
        find = tracer.sets.find
        boundary = set()
        for module, sources in tracer.module_io.items():
            if isinstance(module, DepthwiseSeparableConvModule):
                continue  # one layer, whatever it holds
            convs = sum(isinstance(m, nn.Conv2d) for m in module.modules())
            if convs >= 2:
                boundary.update(roots[find(s)]
                                for s in tracer.expand(sources))
        producers = self.producers()
        for group in self.groups:
            group.inner = not group.fixed and group.index not in boundary
            if not group.inner or len(producers.get(group.index, ())) != 1:
                group.sortable = False

    def describe(self) -> str:
        """A table of the groups, for logs and for users."""
        lines = []
        for g in self.groups:
            kind = 'fixed' if g.fixed else ('inner' if g.inner else 'outer')
            lines.append(f'{g.index:3d} {kind:5s} {g.base_width:5d}  {g.name}'
                         f' ({len(g.modules)} layers)')
        return '\n'.join(lines)
