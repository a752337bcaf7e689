"""Training-time machinery."""
from .atomic_checkpoint import (AtomicLocalBackend, atomic_write_bytes,
                                install_atomic_local_backend)
from .distributed import has_accelerator, setup_cpu_distributed, uses_sync_bn
from .hooks import NetAugHook
from .model_wrapper import NetAugDistributedDataParallel
from .optimizers import CPUAmpOptimWrapper, cpu_supports_bf16
from .runner import (CheckedRunner, CheckpointMismatchError,
                     KeepPreviousCheckpointHook, check_checkpoint_fits)

__all__ = [
    'NetAugHook', 'NetAugDistributedDataParallel', 'CPUAmpOptimWrapper',
    'cpu_supports_bf16',
    'AtomicLocalBackend', 'atomic_write_bytes',
    'install_atomic_local_backend', 'has_accelerator',
    'setup_cpu_distributed', 'uses_sync_bn', 'CheckedRunner',
    'CheckpointMismatchError', 'check_checkpoint_fits',
    'KeepPreviousCheckpointHook'
]
