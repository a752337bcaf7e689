"""Distributed training without GPUs (gloo on CPU).

Two things in mmengine 0.10.7 stop ``--launcher pytorch`` on a machine
without CUDA: ``init_dist`` calls ``torch.cuda.set_device(local_rank)``
before creating the process group (an error on CPU-only builds and on
machines without GPUs), and ``Runner.wrap_model`` passes
``device_ids=[local_rank]`` to ``DistributedDataParallel``, which CPU
modules refuse. :func:`setup_cpu_distributed` works around both from the
config alone: it creates the gloo process group itself (the Runner then
skips ``init_dist``) and asks for ``device_ids=None``.

Synchronised BatchNorm has no CPU kernels in torch (``SyncBatchNorm``
refuses CPU tensors; its functional form fails on ``batch_norm_stats``),
so a SyncBN config is refused here with a clear message.
"""
import datetime
import os
from typing import Iterator

import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.device import (is_cuda_available, is_mlu_available,
                             is_musa_available, is_npu_available)

SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN')


def has_accelerator() -> bool:
    """Whether mmengine finds a CUDA, NPU, MLU or MUSA device."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def _norm_types(node) -> Iterator[str]:
    if isinstance(node, dict):
        if 'norm_cfg' in node and isinstance(node['norm_cfg'], dict):
            yield str(node['norm_cfg'].get('type'))
        for value in node.values():
            yield from _norm_types(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _norm_types(value)


def uses_sync_bn(cfg: Config) -> bool:
    """Whether the model asks for synchronised BatchNorm (a ``norm_cfg``
    of type SyncBN/MMSyncBN anywhere in ``cfg.model``, or ``cfg.sync_bn``)."""
    return bool(cfg.get('sync_bn')) or any(
        t in SYNC_BN_TYPES for t in _norm_types(cfg.get('model', {})))


def setup_cpu_distributed(cfg: Config) -> None:
    """Prepare a ``launcher='pytorch'`` config for training on CPUs.

    * the process group is created here with the gloo backend (the config's
      ``env_cfg.dist_cfg`` may keep ``nccl``: it is replaced) from the
      ``torchrun`` environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
      ``MASTER_PORT``), with ``env_cfg.dist_cfg.timeout`` if set;
    * ``model_wrapper_cfg`` gets ``device_ids=None`` (``type``,
      ``broadcast_buffers=False`` and ``find_unused_parameters`` default to
      what the Runner would have used).

    Call it before building the Runner, only where
    :func:`has_accelerator` is False.

    Raises:
        ValueError: The launcher is not ``pytorch``, or the model uses
            SyncBN (it needs GPUs).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    if launcher != 'pytorch':
        raise ValueError(
            f'Distributed training without a GPU supports --launcher '
            f'pytorch (torchrun) only, got launcher={launcher!r}: mmengine '
            'selects a GPU per process for the slurm and mpi launchers')
    if uses_sync_bn(cfg):
        raise ValueError(
            'SyncBN needs GPUs: torch has no CPU kernels for synchronised '
            "BatchNorm. Use norm_cfg=dict(type='BN', ...) (and no "
            'cfg.sync_bn) to train with gloo on CPUs; a SyncBN config '
            'trains in a single process, where it computes plain BatchNorm')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                               'MASTER_PORT') if k not in os.environ]
        if missing:
            raise ValueError(
                f'--launcher pytorch: environment variables {missing} are '
                'not set; start the tool with torchrun (tools/dist_train.sh '
                'or tools/dist_test.sh)')
        kwargs = {}
        timeout = dist_cfg.get('timeout')
        if timeout is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        torch_dist.init_process_group(backend='gloo',
                                      rank=int(os.environ['RANK']),
                                      world_size=int(os.environ['WORLD_SIZE']),
                                      **kwargs)
