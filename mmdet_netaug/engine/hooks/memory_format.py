"""Training in torch's channels_last memory layout."""
import torch
from mmengine.hooks import Hook

from mmdet.registry import HOOKS
from .bn_reestimation import unwrapped

MEMORY_FORMATS = {'contiguous': torch.contiguous_format,
                  'channels_last': torch.channels_last}


def check_memory_format(value, field: str = 'memory_format',
                        optional: bool = True) -> None:
    """Refuse a value that is not a name of MEMORY_FORMATS (or None, where
    ``optional``)."""
    if not (value in MEMORY_FORMATS or optional and value is None):
        raise ValueError(
            f'config field "{field}": expected one of '
            f'{sorted(MEMORY_FORMATS)}{" or None" if optional else ""}, '
            f'got {value!r}')


@HOOKS.register_module()
class MemoryFormatHook(Hook):
    """Puts the model's 4-d parameters and buffers in a memory layout before
    the run (``Module.to(memory_format=...)``; convolution outputs follow
    their weights' layout). ``channels_last`` is the same float32 arithmetic
    in another layout, faster for these small networks on CPU
    (docs/benchmarks.md, "A lead for the CPU protocol: channels_last").
    :class:`~mmdet_netaug.engine.CheckedRunner` registers it from the config
    field ``memory_format`` (``--cfg-options memory_format=channels_last``);
    checkpoints load into either layout.

    Args:
        memory_format (str): 'channels_last' or 'contiguous'.
    """

    priority = 'VERY_HIGH'

    def __init__(self, memory_format: str = 'channels_last') -> None:
        check_memory_format(memory_format, 'MemoryFormatHook.memory_format',
                            optional=False)
        self.memory_format = memory_format

    def before_run(self, runner) -> None:
        unwrapped(runner).to(
            memory_format=MEMORY_FORMATS[self.memory_format])
        runner.logger.info(f'model in {self.memory_format} memory layout '
                           '(MemoryFormatHook)')
