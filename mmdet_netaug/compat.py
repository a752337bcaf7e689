"""Fixes for known breakages of the stack, applied when the package is
imported (never by editing site-packages).

* mmdet 3.3.0 ``SSDHead`` never sets ``loss_cls``, which
  ``BaseDenseHead._predict_by_feat_single`` reads: every SSD prediction
  fails with ``AttributeError``. :func:`fix_ssd_head_predict` gives the
  head the ``loss_cls = None`` it lacks (the softmax branch is then taken,
  as SSD intends).
* torch >= 2.6 loads checkpoints with ``weights_only=True``, and mmengine's
  resume checkpoints hold a few non-tensor objects (its message hub's
  ``HistoryBuffer``, NumPy arrays and scalars). :func:`safe_load_checkpoint`
  keeps safe loading on and allows exactly these types; anything else is
  refused with a message that names the file and the type.
* mmengine 0.10.7 writes a local checkpoint by truncating the destination
  and writing into it: a process killed meanwhile leaves a partial file
  under the last good checkpoint's name.
  :func:`~mmdet_netaug.engine.atomic_checkpoint.install_atomic_local_backend`
  makes local writes atomic (a temporary file renamed over the
  destination).

These three are every change the package makes on import; all are here.
"""
import functools
import os.path as osp
import pickle
from typing import List

import numpy as np
import torch
from mmdet.models.dense_heads import SSDHead
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from .engine.atomic_checkpoint import install_atomic_local_backend


def fix_ssd_head_predict() -> None:
    """Make mmdet 3.3.0's ``SSDHead`` (and subclasses) able to predict."""
    init = SSDHead.__init__
    if getattr(init, '_netaug_fixed', False):
        return

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if not hasattr(self, 'loss_cls'):
            self.loss_cls = None  # read by _predict_by_feat_single

    __init__._netaug_fixed = True
    SSDHead.__init__ = __init__


def _history_buffer_getattr(owner, name):
    """Stand-in for ``getattr`` while unpickling: mmengine's
    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``; nothing else may be looked up."""
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)  # registered ones
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not on the allow-list')


def checkpoint_allow_list() -> List[object]:
    """The non-tensor types an mmengine training checkpoint holds."""
    multiarray = getattr(np, '_core', None) or np.core  # NumPy 2 / 1
    allowed = [
        HistoryBuffer,
        (_history_buffer_getattr, '__builtin__.getattr'),
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        multiarray.multiarray._reconstruct,
        multiarray.multiarray.scalar,
    ]
    # NumPy >= 1.25 pickles dtypes as instances of these classes.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return allowed


def safe_load_checkpoint(filename: str, map_location=None):
    """Load a local checkpoint with ``weights_only=True`` and the
    :func:`checkpoint_allow_list`.

    Raises:
        FileNotFoundError: The file does not exist.
        pickle.UnpicklingError: The checkpoint holds an object outside the
            allow-list (the message names the file and the object).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(checkpoint_allow_list()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as error:
        detail = str(error).strip().splitlines()
        if not any('GLOBAL' in line for line in detail):
            # no object to refuse: the bytes are not a torch checkpoint
            # (text, random bytes, a truncated legacy file)
            raise ValueError(
                f'{filename} is not a torch checkpoint (empty, truncated or '
                f'another kind of file): {detail[0] if detail else error}'
            ) from None
        culprit = next((line for line in detail if 'GLOBAL' in line),
                       detail[0])
        raise pickle.UnpicklingError(
            f'Refused to load checkpoint {filename}: it holds an object '
            f'that is not on the safe-loading allow-list ({culprit.strip()}). '
            'Only load checkpoints you trust; a plain mmdet or mmdet-netaug '
            'checkpoint holds tensors, numbers, strings and mmengine '
            'training state only.') from None


def install_safe_checkpoint_loader() -> None:
    """Route mmengine's local checkpoint loading through
    :func:`safe_load_checkpoint` (resume, ``load_from`` and
    ``init_cfg=dict(type='Pretrained')``)."""
    CheckpointLoader.register_scheme(prefixes='', loader=safe_load_checkpoint,
                                     force=True)


fix_ssd_head_predict()
install_safe_checkpoint_loader()
install_atomic_local_backend()
