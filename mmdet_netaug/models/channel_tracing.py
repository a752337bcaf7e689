"""Tracing a model's channels: the rules of :mod:`.channel_graph`.

:class:`ChannelTracer` runs under a :class:`~torch.overrides.TorchFunctionMode`
during one forward pass and follows every tensor's channel dimension (dim 1)
back to its *sources* (the output channels of one convolution, or the
network input); a tensor's *descriptor* is the list of its sources, in
order. Element-wise ops tie sources, depthwise convolutions pass them
through, concatenations make multi-segment descriptors, and channels that
leave the traced world are fixed. :class:`~.channel_graph.ChannelGraph`
turns the result into channel groups.
"""
import math
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

_NORM_TYPES = (nn.BatchNorm2d, nn.SyncBatchNorm)

# Ops that keep each channel where it is (the output's channel dim is the
# input's). Any op not named here and not recognised below is treated as
# one that the channels leave: their groups become fixed.
_CHANNEL_WISE = {
    'relu', 'relu_', 'relu6', 'hardtanh', 'hardtanh_', 'leaky_relu',
    'leaky_relu_', 'sigmoid', 'sigmoid_', 'tanh', 'silu', 'hardswish',
    'hardsigmoid', 'gelu', 'elu', 'mish', 'prelu', 'softplus', 'exp',
    'clamp', 'clamp_', 'clip', 'dropout', 'dropout2d', 'max_pool2d',
    'avg_pool2d', 'adaptive_avg_pool2d', 'adaptive_max_pool2d', 'interpolate',
    'upsample', 'pad', 'contiguous', 'clone', 'to', 'float', 'half',
    'bfloat16', 'type_as', 'detach', 'mean', 'amax', 'sum', 'abs', 'neg',
    '__neg__', 'pow', '__pow__', 'sqrt', 'rsqrt', 'reciprocal',
    'max_pool2d_with_indices',
    '_max_pool2d', 'add', 'add_', '__add__', '__radd__', '__iadd__', 'sub',
    'sub_', '__sub__', '__rsub__', '__isub__', 'mul', 'mul_', '__mul__',
    '__rmul__', '__imul__', 'div', 'div_', '__truediv__', '__rtruediv__',
    '__itruediv__', 'where', 'zeros_like', 'ones_like', 'empty_like',
}
_CONCAT = {'cat', 'concat', 'concatenate'}


class UnsupportedModelError(ValueError):
    """The model holds a layer or a coupling NetAug cannot widen."""


class _UnionFind:

    def __init__(self):
        self.parent: List[int] = []

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


class ChannelTracer(TorchFunctionMode):
    """Follows channel descriptors through one forward pass."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.names = {m: n for n, m in model.named_modules()}
        self.layer_of_param: Dict[int, nn.Module] = {}
        self.owner_of_param: Dict[int, nn.Module] = {}
        for module in model.modules():
            for p in module.parameters(recurse=False):
                self.owner_of_param[id(p)] = module
            if isinstance(module, (nn.Conv2d, ) + _NORM_TYPES):
                for t in (module.weight, getattr(module, 'running_mean',
                                                 None)):
                    if t is not None:
                        self.layer_of_param[id(t)] = module
        self.sets = _UnionFind()
        self.size: List[int] = []
        self.fixed_sources: set = set()
        self.grouped_sources: set = set()
        self.multiple_of: Dict[int, int] = defaultdict(lambda: 1)
        self.source_name: List[str] = []
        self.conv_source: Dict[nn.Module, int] = {}
        self.layer_inputs: Dict[nn.Module, List[int]] = {}
        self.depthwise: set = set()
        self.call_order: List[nn.Module] = []
        self.desc: Dict[int, Tuple[int, ...]] = {}
        self.alive: List[torch.Tensor] = []  # keeps ids unique while tracing
        self.module_io: Dict[nn.Module, set] = defaultdict(set)
        #: Sources of dense convolutions (may follow a segmented layout).
        self.dense_sources: set = set()
        #: A source that took a segmented layout -> its segments' sources.
        self.split: Dict[int, Tuple[int, ...]] = {}

    # -- descriptors ------------------------------------------------------
    def new_source(self, size: int, name: str, fixed: bool = False) -> int:
        sid = self.sets.add()
        self.size.append(size)
        self.source_name.append(name)
        if fixed:
            self.fixed_sources.add(sid)
        return sid

    def set_desc(self, tensor, desc) -> None:
        if isinstance(tensor, torch.Tensor) and tensor.dim() >= 2:
            self.desc[id(tensor)] = tuple(desc)
            self.alive.append(tensor)

    def get_desc(self, tensor) -> Optional[Tuple[int, ...]]:
        if not isinstance(tensor, torch.Tensor):
            return None
        return self.desc.get(id(tensor))

    def expand(self, desc: Sequence[int]) -> Tuple[int, ...]:
        """A descriptor with every split source replaced by its segments."""
        out = []
        for s in desc:
            out.extend(self.expand(self.split[s]) if s in self.split else
                       (s, ))
        return tuple(out)

    def follow_layout(self, a: Tuple[int, ...], b: Tuple[int, ...]) -> bool:
        """Give a dense convolution's output the segmented layout of the
        tensor it is tied to (e.g. a channel-attention gate computed from a
        concatenation, multiplied with it): its source is split where the
        other side's segments end. Possible for a source produced by a
        dense convolution, not fixed and tied to nothing yet; returns
        whether the two sides now have the same layout."""
        if sum(self.size[s] for s in a) != sum(self.size[s] for s in b):
            return False
        cuts = set()
        for desc in (a, b):
            at = 0
            for s in desc:
                at += self.size[s]
                cuts.add(at)
        plans = {}
        for desc in (a, b):
            at = 0
            for s in desc:
                inside = sorted(c - at for c in cuts
                                if at < c < at + self.size[s])
                at += self.size[s]
                if not inside:
                    continue
                if (s not in self.dense_sources or s in self.fixed_sources
                        or any(self.sets.find(o) == self.sets.find(s)
                               for o in range(len(self.size)) if o != s)):
                    return False
                plans[s] = inside
        for s, inside in plans.items():
            bounds = [0] + inside + [self.size[s]]
            self.split[s] = tuple(
                self.new_source(hi - lo, f'{self.source_name[s]}[{lo}:{hi}]')
                for lo, hi in zip(bounds, bounds[1:]))
            self.dense_sources.update(self.split[s])
        return bool(plans)

    def tie(self, a: Sequence[int], b: Sequence[int], where: str) -> None:
        a, b = self.expand(a), self.expand(b)
        if ([self.size[s] for s in a] != [self.size[s] for s in b]
                and self.follow_layout(a, b)):
            a, b = self.expand(a), self.expand(b)
        sizes_a = [self.size[s] for s in a]
        sizes_b = [self.size[s] for s in b]
        if sizes_a != sizes_b:
            raise UnsupportedModelError(
                f'{where}: joins channels laid out as {sizes_a} with '
                f'channels laid out as {sizes_b}; NetAug can only tie '
                'tensors made of the same segments')
        for x, y in zip(a, b):
            self.sets.union(x, y)

    def fix(self, desc) -> None:
        # A split source's segments stand for it in the graph: fix them.
        self.fixed_sources.update(self.expand(desc))

    def fix_tensors(self, tensors) -> None:
        for t in tensors:
            d = self.get_desc(t)
            if d is not None:
                self.fix(d)

    # -- layers -----------------------------------------------------------
    def layer_input(self, module, x, where: str) -> Tuple[int, ...]:
        desc = self.get_desc(x)
        if desc is None:
            # Channels we cannot follow (e.g. after a shuffle): keep fixed.
            desc = (self.new_source(x.shape[1], where + '.input', True), )
        if module in self.layer_inputs:
            self.tie(self.layer_inputs[module], desc, where)
        else:
            self.layer_inputs[module] = list(desc)
            self.call_order.append(module)
        return desc

    def conv(self, args, kwargs):
        x = args[0]
        weight = args[1] if len(args) > 1 else kwargs['weight']
        module = self.layer_of_param.get(id(weight))
        if not isinstance(module, nn.Conv2d):
            owner = self.owner_of_param.get(id(weight))
            what = (f'{self.names.get(owner)} ({type(owner).__name__})'
                    if owner is not None else 'a computed weight')
            raise UnsupportedModelError(
                f'conv2d with the weight of {what}: NetAug widens '
                'nn.Conv2d layers only (deformable or weight-standardised '
                'convolutions are not supported)')
        name = self.names[module]
        desc = self.layer_input(module, x, name)
        groups = module.groups
        if groups == 1:
            out = self.conv_source.get(module)
            if out is None:
                out = self.conv_source[module] = self.new_source(
                    module.out_channels, name)
                self.dense_sources.add(out)
            return (out, )
        in_per_group = module.in_channels // groups
        out_per_group = module.out_channels // groups
        if in_per_group == 1 and out_per_group == 1:
            self.depthwise.add(module)
            return desc  # depthwise: channels pass through
        out = self.conv_source.get(module)
        if out is None:
            out = self.conv_source[module] = self.new_source(
                module.out_channels, name)
        if in_per_group == out_per_group and len(desc) == 1:
            self.tie(desc, (out, ), name)
            self.grouped_sources.update((desc[0], out))
            self.multiple_of[out] = math.lcm(self.multiple_of[out],
                                             in_per_group)
        else:  # channel multipliers, grouped concatenations: keep as is
            self.fix(desc)
            self.fix((out, ))
        return (out, )

    def norm(self, args, kwargs):
        x = args[0]
        params = [a for a in list(args[1:]) + list(kwargs.values())
                  if isinstance(a, torch.Tensor)]
        module = next((self.layer_of_param[id(p)] for p in params
                       if id(p) in self.layer_of_param), None)
        if module is None:
            raise UnsupportedModelError(
                'batch_norm whose parameters belong to no BatchNorm layer')
        return self.layer_input(module, x, self.names[module])

    def check_parameters(self, func_name, flat_args) -> None:
        for a in flat_args:
            if isinstance(a, nn.Parameter) and a.numel() > 1:
                owner = self.owner_of_param.get(id(a))
                raise UnsupportedModelError(
                    f'{self.names.get(owner)} ({type(owner).__name__}) uses '
                    f'a per-channel parameter in {func_name}; NetAug widens '
                    'nn.Conv2d, BatchNorm2d and SyncBatchNorm layers only')

    # -- the mode ---------------------------------------------------------
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, '__name__', '')
        flat_args = tree_flatten((args, kwargs))[0]
        tensors_in = [a for a in flat_args if isinstance(a, torch.Tensor)]
        tracked = [t for t in tensors_in if self.get_desc(t) is not None]
        if name == 'conv2d':
            self.set_desc(out, self.conv(args, kwargs))
            return out
        if name == 'batch_norm':
            self.set_desc(out, self.norm(args, kwargs))
            return out
        outs = [o for o in tree_flatten(out)[0]
                if isinstance(o, torch.Tensor)]
        if not tracked or not outs:
            return out  # e.g. x.shape, x.requires_grad: no channels flow
        self.check_parameters(name, flat_args)
        if name in _CONCAT:
            self.concat(args, kwargs, out)
        elif name == '__getitem__' and self.keeps_channels(args):
            self.set_desc(out, self.get_desc(args[0]))
        elif name in _CHANNEL_WISE and len(outs) == 1:
            self.channel_wise(tracked, outs[0], name, tensors_in)
        else:
            self.fix_tensors(tracked)
        return out

    @staticmethod
    def keeps_channels(args) -> bool:
        x, index = args[0], args[1]
        index = index if isinstance(index, tuple) else (index, )
        if any(i is Ellipsis for i in index):
            at = next(k for k, i in enumerate(index) if i is Ellipsis)
            fill = x.dim() - (len(index) - 1)
            index = index[:at] + (slice(None), ) * fill + index[at + 1:]
        head = list(index[:2]) + [slice(None)] * (2 - len(index[:2]))
        return all(isinstance(i, slice) and i == slice(None) for i in head)

    def concat(self, args, kwargs, out) -> None:
        tensors = args[0] if args else kwargs['tensors']
        dim = args[1] if len(args) > 1 else kwargs.get('dim', 0)
        if dim < 0:
            dim += out.dim()
        if dim != 1:
            self.fix_tensors(tensors)
            return
        desc = []
        for k, t in enumerate(tensors):
            d = self.get_desc(t)
            if d is None:
                d = (self.new_source(t.shape[1], f'concat input {k}', True), )
            desc.extend(d)
        self.set_desc(out, desc)

    def channel_wise(self, tracked, out, name, tensors_in=()) -> None:
        if out.dim() < 2:
            self.fix_tensors(tracked)
            return
        channels = out.shape[1]
        # A per-channel tensor the trace does not follow, e.g. a parameter
        # reshaped to broadcast (``x * self.weight.view(1, -1, 1, 1)``, as in
        # L2Norm or a layer scale): it cannot follow a widened group, so the
        # channels it meets stay fixed (before, they were widened and the
        # augmented pass failed with a shape mismatch).
        if channels > 1 and any(
                self.get_desc(t) is None and 0 <= t.dim() - out.dim() + 1
                and t.shape[t.dim() - out.dim() + 1] == channels
                for t in tensors_in):
            self.fix_tensors(tracked)
            return
        full = [t for t in tracked if t.dim() >= 2 and t.shape[1] == channels
                and t.shape[0] in (out.shape[0], 1)]
        broadcast = [t for t in tracked if t.dim() >= 2 and t.shape[1] == 1]
        if len(full) + len(broadcast) != len(tracked) or not full:
            self.fix_tensors(tracked)
            return
        first = self.get_desc(full[0])
        for other in full[1:]:
            self.tie(first, self.get_desc(other), f'{name} of two tensors')
        # ``gate * x``: tying may have split the first tensor's source; the
        # output carries the segments.
        self.set_desc(out, self.expand(first))
