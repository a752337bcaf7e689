"""A model whose layers are widened in place: its sub-networks share weights.

:class:`Supernet` converts the layers named in a
:class:`~mmdet_netaug.models.channel_graph.ChannelGraph` to dynamic ops,
sets the widths of every channel group, samples augmented sub-networks,
sorts hidden channels by importance and exports the active sub-network as
plain layers. It is not an ``nn.Module``: the model it controls is.
"""
import copy
import random
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from ..ops import DYNAMIC_OPS, DynamicChannelMixin
from .channel_graph import ChannelGraph, LayerChannels
from .width_space import WidthSpace

Widths = Tuple[int, ...]


class Supernet:
    """Width control over a model converted in place to dynamic layers.

    Args:
        model (nn.Module): The plain model; its traced layers are replaced
            by their dynamic versions (the plain weights become the leading
            slices).
        graph (ChannelGraph): The model's channel groups.
        space (WidthSpace): The width choices.
    """

    def __init__(self, model: nn.Module, graph: ChannelGraph,
                 space: WidthSpace) -> None:
        self.model, self.graph, self.space = model, graph, space
        #: With ``space.expand_from_input``: the inner groups whose width
        #: follows their input's, each with the groups (none of them inner)
        #: its one producing convolution reads.
        self.expand_inputs: Dict[int, Tuple[int, ...]] = (
            self._expand_inputs() if space.expand_from_input else {})
        #: Allowed widths of each group, tiny first.
        self.choices: List[List[int]] = self._choices()
        self._index_cache: Dict[tuple, torch.Tensor] = {}
        self.layers: Dict[str, Tuple[nn.Module, LayerChannels]] = {}
        self._convert()
        self.widths: Widths = self.tiny_widths()

    # -- structure --------------------------------------------------------
    def _expand_inputs(self) -> Dict[int, Tuple[int, ...]]:
        groups = self.graph.groups
        inputs = {}
        for g, found in self.graph.producers().items():
            # One producer that reads channels between blocks, as an
            # inverted residual's expand conv reads the block's input. Hidden
            # channels made from other hidden channels (a chain of convs
            # inside one block, as in YOLOv3's detection blocks) keep the
            # plain expand choices: following their input would compound
            # the expansions along the chain.
            if (groups[g].inner and len(found) == 1
                    and not any(groups[i].inner for i in found[0].inputs)):
                inputs[g] = found[0].inputs
        return dict(sorted(inputs.items()))

    def _hidden_width(self, g: int, expand: float, input_span: int) -> int:
        """Width of the inner group ``g`` (in :attr:`expand_inputs`) at an
        expand choice, given the summed width of its inputs."""
        group = self.graph.groups[g]
        base_span = sum(self.graph.groups[i].base_width
                        for i in self.expand_inputs[g])
        multiplier = expand * input_span / base_span
        if multiplier == 1.0:
            return group.base_width
        return self.space.scale(group.base_width, multiplier,
                                group.multiple_of)

    def _choices(self) -> List[List[int]]:
        choices = [
            self.space.widths(g.base_width, g.inner, g.fixed, g.multiple_of)
            for g in self.graph.groups
        ]
        for g, inputs in self.expand_inputs.items():
            spans = {0}  # the input widths' possible sums
            for i in inputs:
                spans = {s + w for s in spans for w in choices[i]}
            widths = {self._hidden_width(g, e, span)
                      for e in self.space.expand_choices for span in spans}
            base = self.graph.groups[g].base_width
            choices[g] = [base] + sorted(widths - {base})
        return choices

    def _span(self, groups: Sequence[int], widths: Sequence[int]) -> int:
        return sum(widths[g] for g in groups)

    def _convert(self) -> None:
        largest = self.largest_widths()
        tiny = self.tiny_widths()
        for name, layer in self.graph.layers.items():
            module = self.model.get_submodule(name)
            max_in = self._span(layer.inputs, largest)
            max_out = self._span(layer.outputs, largest)
            if (max_in == self._span(layer.inputs, tiny)
                    and max_out == self._span(layer.outputs, tiny)):
                continue  # never widened: stays a plain layer
            dynamic_cls = DYNAMIC_OPS.get(type(module))
            if dynamic_cls is None:
                raise TypeError(f'{name}: {type(module).__name__} has no '
                                'dynamic version')
            if isinstance(module, nn.Conv2d):
                dynamic = dynamic_cls.convert_from(module, max_in, max_out)
            else:
                dynamic = dynamic_cls.convert_from(module, max_in)
            replace_module(self.model, module, dynamic)
            self.layers[name] = (dynamic, layer)

    def tiny_widths(self) -> Widths:
        """Every group at its base width: the tiny model."""
        return tuple(c[0] for c in self.choices)

    def largest_widths(self) -> Widths:
        """Every group at its widest choice: the largest augmented model."""
        return tuple(c[-1] for c in self.choices)

    # -- widths -----------------------------------------------------------
    def _selection(self, groups: Tuple[int, ...], widths: Widths):
        if len(groups) == 1:
            return widths[groups[0]]
        # A concatenated input: the widest tensor is laid out as all the
        # segments' base channels, then all their extra channels, so that
        # the tiny model still uses the leading slice.
        key = (groups, tuple(widths[g] for g in groups))
        index = self._index_cache.get(key)
        if index is None:
            tiny = [self.choices[g][0] for g in groups]
            extra = [self.choices[g][-1] - t for g, t in zip(groups, tiny)]
            base_at, extra_at = 0, sum(tiny)
            parts = []
            for g, t, e in zip(groups, tiny, extra):
                parts.append(torch.arange(base_at, base_at + t))
                parts.append(
                    torch.arange(extra_at, extra_at + widths[g] - t))
                base_at, extra_at = base_at + t, extra_at + e
            index = self._index_cache[key] = torch.cat(parts)
        return index

    def set_widths(self, widths: Sequence[int]) -> None:
        """Activate the sub-network with these group widths."""
        widths = tuple(int(w) for w in widths)
        if len(widths) != len(self.choices):
            raise ValueError(f'expected {len(self.choices)} group widths, '
                             f'got {len(widths)}')
        for g, (w, allowed) in enumerate(zip(widths, self.choices)):
            if g in self.expand_inputs:  # follows its inputs' widths
                span = self._span(self.expand_inputs[g], widths)
                allowed = sorted({self._hidden_width(g, e, span)
                                  for e in self.space.expand_choices})
            if w not in allowed:
                raise ValueError(f'group {g} ({self.graph.groups[g].name}): '
                                 f'width {w} is not one of {allowed}')
        if widths == self.widths:
            return
        for module, layer in self.layers.values():
            module.set_active_channels(
                self._to_device(self._selection(layer.inputs, widths),
                                module),
                self._to_device(self._selection(layer.outputs, widths),
                                module))
        self.widths = widths

    @staticmethod
    def _to_device(selection, module):
        if isinstance(selection, torch.Tensor):
            return selection.to(module.weight.device if module.weight
                                is not None else module.running_mean.device)
        return selection

    def set_tiny(self) -> None:
        """Activate the tiny model."""
        self.set_widths(self.tiny_widths())

    def sample(self, rng: random.Random, augment_width: bool = True,
               augment_expand: bool = True) -> Widths:
        """Draw one augmented sub-network.

        Args:
            rng (random.Random): The source of randomness (seeded the same
                on every rank so that all ranks draw the same network).
            augment_width (bool): Widen groups between blocks.
            augment_expand (bool): Widen the hidden channels of blocks.
        """
        widths = []
        for group, allowed in zip(self.graph.groups, self.choices):
            if group.index in self.expand_inputs:
                widths.append(allowed[0])  # set below, from its inputs
                continue
            active = augment_expand if group.inner else augment_width
            widths.append(rng.choice(allowed) if active else allowed[0])
        for g, inputs in self.expand_inputs.items():
            expand = (rng.choice(self.space.expand_choices)
                      if augment_expand else 1.0)
            widths[g] = self._hidden_width(g, expand,
                                           self._span(inputs, widths))
        return tuple(widths)

    # -- importance sorting -----------------------------------------------
    def sort_channels(self) -> List[Tuple[nn.Parameter, int, torch.Tensor]]:
        """Reorder each sortable group's channels by L1 importance.

        The importance of a channel is the L1 norm of the weights that read
        it (its consumers), as in the NetAug and Once-for-All code. All
        layers of the group are permuted together, so the largest
        sub-network computes exactly what it computed before, while narrower
        ones (the tiny model first) now hold the most important channels.

        Returns:
            list[tuple]: ``(tensor, dim, permutation)`` for every parameter
            and BN buffer that was permuted, so that the optimiser's state
            and averaged copies can follow (see
            :func:`permute_optimizer_state`, :func:`permute_copy`).
        """
        moved = []
        for group in self.graph.groups:
            if not group.sortable or len(self.choices[group.index]) < 2:
                continue
            g = group.index
            consumers, followers = [], []
            for module, layer in self.layers.values():
                if layer.produces:
                    if g in layer.inputs:
                        consumers.append(module)
                    if layer.outputs == (g, ):
                        followers.append((module, 0))
                elif layer.inputs == (g, ):
                    followers.append((module, 0))
            if not consumers:
                continue
            with torch.no_grad():
                importance = sum(
                    m.weight.detach().abs().sum(dim=(0, 2, 3)).float()
                    for m in consumers)
                perm = torch.argsort(importance, descending=True,
                                     stable=True)
                if torch.equal(perm, torch.arange(len(perm),
                                                  device=perm.device)):
                    continue
                for module in consumers:
                    moved.append(_permute(module, 'weight', 1, perm))
                for module, dim in followers:
                    for name in ('weight', 'bias', 'running_mean',
                                 'running_var'):
                        if getattr(module, name, None) is not None:
                            moved.append(_permute(module, name, dim, perm))
        return moved

    # -- export -----------------------------------------------------------
    def export(self, widths: Optional[Sequence[int]] = None) -> nn.Module:
        """A copy of the model with the given (default: tiny) sub-network as
        plain layers. The supernet itself is left at the tiny width."""
        self.set_widths(self.tiny_widths() if widths is None else widths)
        try:
            static = copy.deepcopy(self.model)
        finally:
            self.set_tiny()
        for module in list(static.modules()):
            if isinstance(module, DynamicChannelMixin):
                replace_module(static, module, module.to_static_op())
        return static


def replace_module(root: nn.Module, old: nn.Module, new: nn.Module) -> None:
    """Put ``new`` wherever ``root`` holds ``old``: a layer shared by
    several parents (e.g. RTMDet's head convolutions, shared across levels
    with ``share_conv``) stays shared."""
    for parent in root.modules():
        for attr, child in list(parent._modules.items()):
            if child is old:
                parent._modules[attr] = new


def _permute(module: nn.Module, name: str, dim: int, perm: torch.Tensor):
    tensor = getattr(module, name)
    # In place: the parameter keeps its storage (DDP and optimisers hold it).
    tensor.data.copy_(tensor.data.index_select(dim, perm.to(tensor.device)))
    grad = getattr(tensor, 'grad', None)
    if grad is not None:  # accumulated over steps not yet applied
        grad.copy_(grad.index_select(dim, perm.to(grad.device)))
    return tensor, dim, perm


def permute_optimizer_state(optimizer: torch.optim.Optimizer,
                            moved: Sequence[Tuple[nn.Parameter, int,
                                                  torch.Tensor]]) -> None:
    """Apply channel permutations to the optimiser's per-parameter state
    (momentum buffers, Adam moments) so it stays aligned with the weights."""
    for param, dim, perm in moved:
        for key, value in optimizer.state.get(param, {}).items():
            if isinstance(value, torch.Tensor) and value.shape == param.shape:
                optimizer.state[param][key] = value.index_select(
                    dim, perm.to(value.device))


def permute_copy(model: nn.Module, copy_of_model: nn.Module,
                 moved: Sequence[Tuple[torch.Tensor, int,
                                       torch.Tensor]]) -> None:
    """Apply the permutations of :meth:`Supernet.sort_channels` on ``model``
    to the same-named tensors of ``copy_of_model`` (e.g. an EMA copy)."""
    names = {id(t): n for n, t in model.named_parameters()}
    names.update({id(t): n for n, t in model.named_buffers()})
    targets = dict(copy_of_model.named_parameters())
    targets.update(copy_of_model.named_buffers())
    for tensor, dim, perm in moved:
        target = targets.get(names.get(id(tensor)))
        if target is not None and target.shape == tensor.shape:
            target.data.copy_(
                target.data.index_select(dim, perm.to(target.device)))
