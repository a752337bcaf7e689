"""Re-estimation of BatchNorm statistics for the tiny model.

The augmented passes update the running statistics that the tiny model
shares with its wider sub-networks; before evaluation and export they are
measured again on training images with the tiny model alone.
"""
import random
from contextlib import contextmanager
from typing import Iterable

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import all_reduce, get_world_size
from torch.nn.modules.batchnorm import _BatchNorm

from mmdet.models.data_preprocessors import BatchSyncRandomResize


@contextmanager
def preserved_rng_state():
    """Leave Python's, NumPy's and torch's global generators as they were
    (so that re-estimation does not change the training run's randomness)."""
    py, np_state, torch_state = (random.getstate(), np.random.get_state(),
                                 torch.get_rng_state())
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable[dict],
                          num_batches: int) -> int:
    """Measure a detector's BatchNorm statistics anew.

    Every BatchNorm of ``model`` is reset and accumulates a plain average
    over ``num_batches`` training batches run through its ``_forward`` (for
    a :class:`NetAugDetector`, the tiny model); under distributed training
    the result is averaged over ranks, so every rank evaluates the same
    model. The data preprocessor's ``BatchSyncRandomResize`` (YOLOX's
    multi-scale training) is left out: the batches keep the training
    pipeline's size, and the training's drawn size is left as it was.

    Args:
        model (nn.Module): The detector (not a DDP wrapper).
        batches (Iterable[dict]): Training batches as the dataloader yields
            them (before the data preprocessor).
        num_batches (int): How many batches to use.

    Returns:
        int: The number of batches used.
    """
    if num_batches < 1:
        raise ValueError('bn_calibration_batches must be >= 1, got '
                         f'{num_batches}')
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    momenta = [m.momentum for m in norms]
    was_training = model.training
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
        m.train()
    used = 0
    preprocessor = getattr(model, 'data_preprocessor', None)
    augments = getattr(preprocessor, 'batch_augments', None)
    try:
        if augments is not None:
            # mmdet's BatchSyncRandomResize (YOLOX) keeps the size it drew
            # and draws anew at the message hub's iteration: through it, the
            # statistics would be measured at whatever size the training had
            # reached (another one after a resume), and the training would go
            # on at a size the re-estimation drew. Left out, the batches keep
            # the pipeline's own size, the same in every run.
            preprocessor.batch_augments = type(augments)(
                [a for a in augments
                 if not isinstance(a, BatchSyncRandomResize)])
        with preserved_rng_state():
            for batch in batches:
                data = model.data_preprocessor(batch, training=True)
                model._forward(data['inputs'])
                used += 1
                if used >= num_batches:
                    break
    finally:
        if augments is not None:
            preprocessor.batch_augments = augments
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.train(was_training)
    if used == 0:
        raise RuntimeError('BatchNorm re-estimation got no training batch: '
                           'the training dataloader is empty')
    if get_world_size() > 1:
        for m in norms:
            all_reduce(m.running_mean, op='mean')
            all_reduce(m.running_var, op='mean')
    return used
