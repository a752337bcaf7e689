"""Mixed-precision training on CPU.

mmengine 0.10.7's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU/MUSA device in
its constructor, so ``--amp`` cannot train on a machine without one, even
though ``torch.autocast`` supports bfloat16 on CPU. bfloat16 has the range
of float32, so it needs no loss scaling: :class:`CPUAmpOptimWrapper` is a
plain :class:`~mmengine.optim.OptimWrapper` whose forward runs under
``torch.autocast(device_type='cpu', dtype=torch.bfloat16)``.
"""
import logging
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mmdet.registry import OPTIM_WRAPPERS


def cpu_supports_bf16() -> bool:
    """Whether this CPU runs bfloat16 convolutions natively (oneDNN with
    AVX512-BF16/AMX, or the AVX512 instructions oneDNN needs to run them
    at a useful speed)."""
    probe = getattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported', None)
    if probe is not None:
        try:
            return bool(probe())
        except RuntimeError:  # pragma: no cover - builds without oneDNN
            return False
    is_bf16 = getattr(torch.cpu, '_is_avx512_bf16_supported', None)
    return bool(is_bf16 and is_bf16())


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Automatic mixed precision (bfloat16) for training on CPU.

    The forward pass (data preprocessing included, as in mmengine's
    ``AmpOptimWrapper``) runs under
    ``torch.autocast(device_type='cpu', dtype=torch.bfloat16)``; the
    backward pass and the update are the plain :class:`OptimWrapper`'s, as
    bfloat16 needs no loss scaling. Its state dict is the plain wrapper's,
    so checkpoints move freely between the two (a ``loss_scaler`` entry of
    an ``AmpOptimWrapper`` checkpoint is ignored). Validation and testing
    run outside the optimiser context, in float32.

    On a CPU without native bfloat16 support (see :func:`cpu_supports_bf16`)
    it warns once and trains in float32 rather than emulating bfloat16
    slowly. On a GPU use mmengine's ``AmpOptimWrapper`` instead
    (``tools/train.py --amp`` chooses).

    Args:
        dtype (str or torch.dtype): The autocast data type; only
            ``'bfloat16'`` (float16 on CPU would need loss scaling).
            Default: ``'bfloat16'``.
        **kwargs: The :class:`OptimWrapper` arguments (``optimizer``,
            ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, dtype)
        if dtype is not torch.bfloat16:
            raise ValueError('CPUAmpOptimWrapper: field "dtype" must be '
                             f"'bfloat16' (CPU autocast), got {dtype!r}")
        super().__init__(**kwargs)
        self.cast_dtype = dtype
        self.enabled = cpu_supports_bf16()
        if not self.enabled:
            print_log(
                'CPUAmpOptimWrapper: this CPU has no native bfloat16 '
                'support (oneDNN bf16); training in float32 instead',
                logger='current',
                level=logging.WARNING)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The plain wrapper's context (gradient accumulation) with the
        forward under CPU bfloat16 autocast."""
        device = next((p.device for p in model.parameters()), None)
        if device is not None and device.type != 'cpu':
            raise RuntimeError(
                'CPUAmpOptimWrapper autocasts CPU operations only, but the '
                f'model is on {device}: use optim_wrapper=dict('
                "type='AmpOptimWrapper', loss_scale='dynamic') on a GPU")
        with super().optim_context(model), torch.autocast(
                device_type='cpu', dtype=self.cast_dtype,
                enabled=self.enabled):
            yield

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a plain or an ``AmpOptimWrapper`` optimiser state."""
        state_dict = dict(state_dict)
        state_dict.pop('loss_scaler', None)
        super().load_state_dict(state_dict)
