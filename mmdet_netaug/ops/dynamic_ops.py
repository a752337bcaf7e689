"""Width-dynamic versions of the layers a conv detector is built from.

Each dynamic op is the static op's subclass (so it is still an ``nn.Conv2d``
or ``nn.BatchNorm2d`` to everything that inspects the model) and holds the
*widest* weight. The active sub-network uses a part of it:

* ``int`` width: the leading slice ``weight[:width]`` (the common case);
* ``LongTensor`` index: the channels of an input that is a concatenation of
  several widened tensors (see :mod:`mmdet_netaug.models.channel_graph`).

The active widths are set explicitly with :meth:`set_active_channels`; they
are never inferred from an input's shape. At the base width the op computes
exactly what the static op it was converted from computes, and
:meth:`to_static_op` returns that static op with the same state-dict keys
and shapes.
"""
from typing import Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

#: An active channel selection: a leading width or an explicit index.
ChannelSelection = Union[int, torch.Tensor]


def _select(tensor: torch.Tensor, dim: int,
            selection: ChannelSelection) -> torch.Tensor:
    """Return the active channels of ``tensor`` along ``dim``."""
    if isinstance(selection, int):
        if selection == tensor.shape[dim]:
            return tensor
        return tensor.narrow(dim, 0, selection)
    return tensor.index_select(dim, selection)


def _count(selection: ChannelSelection) -> int:
    """Number of channels a selection keeps."""
    return selection if isinstance(selection, int) else int(selection.numel())


def _copy_into_leading(target: torch.Tensor, source: torch.Tensor) -> None:
    """Copy ``source`` into the leading block of the larger ``target``."""
    region = target
    for dim, size in enumerate(source.shape):
        region = region.narrow(dim, 0, size)
    region.copy_(source)


class DynamicChannelMixin:
    """Shared behaviour of width-dynamic ops (listed first in the bases so
    that its ``_load_from_state_dict`` takes precedence).

    Attributes set on every dynamic op:
        base_in_channels / base_out_channels (int): widths of the static op it
            was converted from (the tiny model).
        active_in / active_out (int | Tensor): the current selection.
    """

    def set_active_channels(self, active_in: ChannelSelection,
                            active_out: ChannelSelection) -> None:
        """Set the channels the next forward uses (explicitly, per dim)."""
        for name, sel, limit in (('input', active_in, self.max_in_channels),
                                 ('output', active_out,
                                  self.max_out_channels)):
            if isinstance(sel, torch.Tensor):
                if sel.numel() and int(sel.max()) >= limit:
                    raise ValueError(f'{type(self).__name__}: {name} index '
                                     f'reaches {int(sel.max())}, but the op '
                                     f'has {limit} channels')
            elif not 0 < sel <= limit:
                raise ValueError(f'{type(self).__name__}: {name} width {sel} '
                                 f'is outside 1..{limit}')
        self.active_in, self.active_out = active_in, active_out

    def reset_active_channels(self) -> None:
        """Return to the base (tiny) width."""
        self.active_in = self.base_in_channels
        self.active_out = self.base_out_channels

    @property
    def active_in_channels(self) -> int:
        """Number of active input channels."""
        return _count(self.active_in)

    @property
    def active_out_channels(self) -> int:
        """Number of active output channels."""
        return _count(self.active_out)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Accept a plain (narrower) checkpoint: it fills the leading slice.

        This lets a plain mmdet checkpoint of the tiny model (or a pretrained
        backbone) initialise the supernet; the wider part keeps its values.
        """
        own = dict(self.named_parameters(recurse=False))
        own.update(self.named_buffers(recurse=False))
        patched = None
        for name, tensor in own.items():
            incoming = state_dict.get(prefix + name)
            if (tensor is None or incoming is None
                    or incoming.shape == tensor.shape
                    or incoming.dim() != tensor.dim()
                    or any(a > b
                           for a, b in zip(incoming.shape, tensor.shape))):
                continue
            widened = tensor.detach().clone()
            _copy_into_leading(widened, incoming)
            if patched is None:
                patched = dict(state_dict)  # never alter the caller's dict
            patched[prefix + name] = widened
        super()._load_from_state_dict(
            state_dict if patched is None else patched, prefix,
            local_metadata, strict, missing_keys, unexpected_keys, error_msgs)


class DynamicConv2d(DynamicChannelMixin, nn.Conv2d):
    """``nn.Conv2d`` whose input and output widths can be chosen per forward.

    Dense, depthwise and grouped convolutions are supported. A grouped
    convolution keeps its channels per group and changes its number of
    groups with the width (a depthwise one stays depthwise).

    Args:
        in_channels (int): Widest input width.
        out_channels (int): Widest output width.
        base_in_channels (int): Input width of the tiny model.
        base_out_channels (int): Output width of the tiny model.
        groups (int): Groups at the *base* width. Default: 1.
        **kwargs: The remaining ``nn.Conv2d`` arguments.

    Example:
        >>> conv = nn.Conv2d(8, 16, 3, padding=1)
        >>> dyn = DynamicConv2d.convert_from(conv, 24, 48)
        >>> dyn.set_active_channels(24, 32)
        >>> dyn(torch.rand(1, 24, 5, 5)).shape
        torch.Size([1, 32, 5, 5])
    """

    def __init__(self, in_channels: int, out_channels: int,
                 base_in_channels: int, base_out_channels: int,
                 kernel_size, groups: int = 1, **kwargs) -> None:
        if base_in_channels % groups or base_out_channels % groups:
            raise ValueError(f'DynamicConv2d: base widths {base_in_channels}'
                             f'->{base_out_channels} are not divisible by '
                             f'groups={groups}')
        self.in_per_group = base_in_channels // groups
        self.out_per_group = base_out_channels // groups
        max_groups = 1
        if groups > 1:
            # Channels per group stay; the number of groups follows the width.
            max_groups = in_channels // self.in_per_group
            if (in_channels % self.in_per_group
                    or out_channels % self.out_per_group
                    or out_channels // self.out_per_group != max_groups):
                raise ValueError(
                    'DynamicConv2d: a grouped convolution must widen its '
                    'input and output by whole groups and by the same '
                    f'factor (got {in_channels} in, {out_channels} out for '
                    f'base {base_in_channels}->{base_out_channels}, '
                    f'groups={groups})')
        super().__init__(in_channels, out_channels, kernel_size,
                         groups=max_groups, **kwargs)
        self.max_in_channels, self.max_out_channels = in_channels, out_channels
        self.base_in_channels = base_in_channels
        self.base_out_channels = base_out_channels
        self.base_groups = groups
        self.reset_active_channels()

    @classmethod
    def convert_from(cls, module: nn.Conv2d, in_channels: int,
                     out_channels: int) -> 'DynamicConv2d':
        """Widen a static conv; its weights become the leading slice."""
        if in_channels < module.in_channels or (
                out_channels < module.out_channels):
            raise ValueError(
                f'DynamicConv2d.convert_from: widest widths {in_channels}->'
                f'{out_channels} are narrower than the static conv '
                f'{module.in_channels}->{module.out_channels}')
        dynamic = cls(in_channels, out_channels, module.in_channels,
                      module.out_channels, module.kernel_size,
                      groups=module.groups, stride=module.stride,
                      padding=module.padding, dilation=module.dilation,
                      bias=module.bias is not None,
                      padding_mode=module.padding_mode,
                      device=module.weight.device, dtype=module.weight.dtype)
        with torch.no_grad():
            _copy_into_leading(dynamic.weight, module.weight)
            if module.bias is not None:
                _copy_into_leading(dynamic.bias, module.bias)
        dynamic.train(module.training)
        return dynamic

    def active_weight_and_bias(self):
        """The weight and bias slices of the active sub-network."""
        weight = _select(self.weight, 0, self.active_out)
        if self.base_groups == 1:
            weight = _select(weight, 1, self.active_in)
        bias = None if self.bias is None else _select(self.bias, 0,
                                                      self.active_out)
        return weight, bias

    @property
    def active_groups(self) -> int:
        """Groups of the active sub-network."""
        if self.base_groups == 1:
            return 1
        return self.active_in_channels // self.in_per_group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.active_weight_and_bias()
        if self.padding_mode != 'zeros':
            return super().forward(x) if weight is self.weight else F.conv2d(
                F.pad(x, self._reversed_padding_repeated_twice,
                      mode=self.padding_mode), weight, bias, self.stride,
                (0, 0), self.dilation, self.active_groups)
        return F.conv2d(x, weight, bias, self.stride, self.padding,
                        self.dilation, self.active_groups)

    def to_static_op(self) -> nn.Conv2d:
        """A plain ``nn.Conv2d`` holding the active sub-network's weights."""
        weight, bias = self.active_weight_and_bias()
        static = nn.Conv2d(
            self.active_in_channels, self.active_out_channels,
            self.kernel_size, stride=self.stride, padding=self.padding,
            dilation=self.dilation, groups=self.active_groups,
            bias=bias is not None, padding_mode=self.padding_mode,
            device=weight.device, dtype=weight.dtype)
        with torch.no_grad():
            static.weight.copy_(weight)
            if bias is not None:
                static.bias.copy_(bias)
        static.train(self.training)
        return static

    def extra_repr(self) -> str:
        return (super().extra_repr() +
                f', base={self.base_in_channels}->{self.base_out_channels}'
                f', active={self.active_in_channels}->'
                f'{self.active_out_channels}')


class _DynamicNormMixin(DynamicChannelMixin):
    """BatchNorm over the active channels; the running statistics updated are
    the active slice of the shared buffers (hence BN re-estimation)."""

    def __init__(self, num_features: int,
                 base_features: Optional[int] = None, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        self.max_in_channels = self.max_out_channels = self.num_features
        self.base_in_channels = self.base_out_channels = (base_features
                                                          or num_features)
        self.reset_active_channels()

    def _batch_norm_args(self, x: torch.Tensor):
        """``(running_mean, running_var, weight, bias, training, momentum)``
        of the active channels, as ``F.batch_norm`` takes them."""
        self._check_input_dim(x)
        factor, bn_training = self._momentum_and_training()
        mean, var, weight, bias = self._active_tensors()
        track = not self.training or self.track_running_stats
        return (mean if track else None, var if track else None, weight,
                bias, bn_training, factor)

    def _keep_statistics(self, running_mean, running_var) -> None:
        """Channels picked by an index (a BatchNorm over concatenated
        inputs) are copies of the shared buffers: put the statistics that
        ``F.batch_norm`` updated in place back where they came from (a
        leading slice is a view, updated in place already)."""
        sel = self.active_in
        if isinstance(sel, int) or running_mean is None or not (
                self.training and self.track_running_stats):
            return
        with torch.no_grad():
            self.running_mean.index_copy_(0, sel, running_mean)
            self.running_var.index_copy_(0, sel, running_var)

    def set_active_channels(self, active_in, active_out=None) -> None:
        """A norm has one channel dimension: input and output are the same."""
        super().set_active_channels(active_in,
                                    active_in if active_out is None else
                                    active_out)

    def _active_tensors(self):
        sel = self.active_in
        pick = (lambda t: None if t is None else _select(t, 0, sel))
        return (pick(self.running_mean), pick(self.running_var),
                pick(self.weight), pick(self.bias))

    def _momentum_and_training(self):
        # Same bookkeeping as torch's _BatchNorm.forward.
        exponential_average_factor = 0.0 if self.momentum is None else (
            self.momentum)
        if self.training and self.track_running_stats:
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
                if self.momentum is None:  # cumulative moving average
                    exponential_average_factor = 1.0 / float(
                        self.num_batches_tracked)
        bn_training = self.training or (self.running_mean is None
                                        and self.running_var is None)
        return exponential_average_factor, bn_training

    @classmethod
    def convert_from(cls, module: nn.modules.batchnorm._BatchNorm,
                     num_features: int):
        """Widen a static BatchNorm; its parameters and statistics become the
        leading slice (the rest starts as a fresh BatchNorm)."""
        if num_features < module.num_features:
            raise ValueError(f'{cls.__name__}.convert_from: {num_features} '
                             f'features are fewer than the static '
                             f'{module.num_features}')
        kwargs = dict(eps=module.eps, momentum=module.momentum,
                      affine=module.affine,
                      track_running_stats=module.track_running_stats)
        if isinstance(module, nn.SyncBatchNorm):
            kwargs['process_group'] = module.process_group
        ref = module.weight if module.affine else module.running_mean
        dynamic = cls(num_features, base_features=module.num_features,
                      device=None if ref is None else ref.device, **kwargs)
        with torch.no_grad():
            for name in ('weight', 'bias', 'running_mean', 'running_var'):
                src = getattr(module, name)
                if src is not None:
                    _copy_into_leading(getattr(dynamic, name), src)
            if module.num_batches_tracked is not None:
                dynamic.num_batches_tracked.copy_(module.num_batches_tracked)
        dynamic.train(module.training)
        return dynamic

    def to_static_op(self):
        """A plain BatchNorm of the active width with the active values."""
        static_cls = self._static_cls
        kwargs = dict(eps=self.eps, momentum=self.momentum, affine=self.affine,
                      track_running_stats=self.track_running_stats)
        if static_cls is nn.SyncBatchNorm:
            kwargs['process_group'] = self.process_group
        ref = self.weight if self.affine else self.running_mean
        static = static_cls(self.active_in_channels,
                            device=None if ref is None else ref.device,
                            **kwargs)
        mean, var, weight, bias = self._active_tensors()
        with torch.no_grad():
            for name, value in (('running_mean', mean), ('running_var', var),
                                ('weight', weight), ('bias', bias)):
                if value is not None:
                    getattr(static, name).copy_(value)
            if self.num_batches_tracked is not None:
                static.num_batches_tracked.copy_(self.num_batches_tracked)
        static.train(self.training)
        return static

    def extra_repr(self) -> str:
        return (super().extra_repr() + f', base={self.base_in_channels}'
                f', active={self.active_in_channels}')


class DynamicBatchNorm2d(_DynamicNormMixin, nn.BatchNorm2d):
    """``nn.BatchNorm2d`` over the active channels of its widest buffers.

    Args:
        num_features (int): Widest width.
        base_features (int): Width of the tiny model. Defaults to
            ``num_features``.
        **kwargs: The remaining ``nn.BatchNorm2d`` arguments.
    """
    _static_cls = nn.BatchNorm2d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        args = self._batch_norm_args(x)
        out = F.batch_norm(x, *args, self.eps)
        self._keep_statistics(args[0], args[1])
        return out


class DynamicSyncBatchNorm(_DynamicNormMixin, nn.SyncBatchNorm):
    """``nn.SyncBatchNorm`` over the active channels of its widest buffers.

    Every rank runs the same sub-network (the hook samples it from a shared
    seed), so the synchronised statistics have the same width on all ranks.
    Without an initialised process group it computes what
    :class:`DynamicBatchNorm2d` computes.
    """
    _static_cls = nn.SyncBatchNorm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (running_mean, running_var, weight, bias, bn_training,
         factor) = self._batch_norm_args(x)
        need_sync = (bn_training and self.training
                     and torch.distributed.is_available()
                     and torch.distributed.is_initialized())
        if need_sync:
            group = self.process_group or torch.distributed.group.WORLD
            need_sync = torch.distributed.get_world_size(group) > 1
        if not need_sync:
            out = F.batch_norm(x, running_mean, running_var, weight, bias,
                               bn_training, factor, self.eps)
        else:
            from torch.nn.modules._functions import SyncBatchNorm as sync_bn
            out = sync_bn.apply(x, weight, bias, running_mean, running_var,
                                self.eps, factor, group,
                                torch.distributed.get_world_size(group))
        self._keep_statistics(running_mean, running_var)
        return out


#: Static op type -> its dynamic version.
DYNAMIC_OPS = {
    nn.Conv2d: DynamicConv2d,
    nn.BatchNorm2d: DynamicBatchNorm2d,
    nn.SyncBatchNorm: DynamicSyncBatchNorm,
}

# mmcv's norm_cfg=dict(type='SyncBN') builds mmengine's subclass of
# nn.SyncBatchNorm (it differs only under parrots). The table is looked up by
# exact type, so that a subclass with its own forward is never converted
# silently; this one is safe to convert.
try:
    from mmengine.utils.dl_utils.parrots_wrapper import \
        SyncBatchNorm as _MMEngineSyncBatchNorm
except ImportError:  # pragma: no cover
    _MMEngineSyncBatchNorm = None
if _MMEngineSyncBatchNorm is not None:
    DYNAMIC_OPS[_MMEngineSyncBatchNorm] = DynamicSyncBatchNorm
