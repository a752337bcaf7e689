"""NetAug's training step with two backward passes."""
from collections import OrderedDict
from contextlib import nullcontext
from typing import TYPE_CHECKING, Dict, Union

import torch.nn as nn
from mmengine.optim import OptimWrapper
from torch import Tensor

from .supernet import Widths

if TYPE_CHECKING:
    from .netaug_detector import NetAugDetector


def netaug_train_step(model: nn.Module, detector: 'NetAugDetector',
                      data: Union[dict, tuple, list],
                      optim_wrapper: OptimWrapper,
                      aug_widths: Widths) -> Dict[str, Tensor]:
    """One training step of ``L(tiny) + alpha * L(aug)`` with two backward
    passes: the tiny model's forward and backward, then the augmented
    sub-network's forward and backward, then the optimiser step.

    The gradients accumulate to those of the summed loss, as in mmengine's
    one-backward ``train_step`` (which computes both losses in one forward
    and so holds both passes' activations until the backward); here the
    tiny pass's activations are freed before the augmented forward. Callers
    use it where :meth:`NetAugDetector.two_backward_passes` holds, and
    mmengine's own ``train_step`` otherwise.

    Under DDP (``model`` is the wrapper, ``detector`` its module) the tiny
    pass runs in ``no_sync``: gradients are all-reduced once, after the
    augmented backward. Gradient accumulation and AMP work as in mmengine:
    both losses are scaled alike, and the step counts once.

    Args:
        model (nn.Module): What runs the forward: ``detector`` itself or the
            DDP wrapper around it.
        detector (NetAugDetector): The NetAug detector.
        data (dict | tuple | list): A batch from the dataloader.
        optim_wrapper (OptimWrapper): The optimiser wrapper.
        aug_widths (tuple[int]): The augmented sub-network of this step.

    Returns:
        dict[str, Tensor]: The log variables: ``loss`` (the sum), the tiny
        model's losses and the ``aug_`` losses, as mmengine's path logs them.
    """
    no_sync = getattr(model, 'no_sync', nullcontext)
    with no_sync(), optim_wrapper.optim_context(model):
        data = detector.data_preprocessor(data, True)
        losses = model._run_forward(
            dict(data, aug_widths=aug_widths, part='tiny'), mode='loss')
    parsed, tiny_log = detector.parse_losses(losses)
    with no_sync():
        optim_wrapper.backward(optim_wrapper.scale_loss(parsed))
    uncount_backward(optim_wrapper)
    del losses, parsed
    with optim_wrapper.optim_context(model):
        losses = model._run_forward(
            dict(data, aug_widths=aug_widths, part='aug'), mode='loss')
    parsed, aug_log = detector.parse_losses(losses)
    optim_wrapper.update_params(parsed)
    log_vars = OrderedDict(
        loss=tiny_log['loss'].detach() + aug_log['loss'].detach())
    for part in (tiny_log, aug_log):
        log_vars.update((k, v.detach()) for k, v in part.items()
                        if k != 'loss')
    return log_vars


def uncount_backward(optim_wrapper: OptimWrapper) -> None:
    """Make a backward pass not count as a step of ``optim_wrapper``.

    mmengine's ``OptimWrapper.backward`` counts every call as one step
    (``_inner_count``, which drives gradient accumulation and AMP's loss
    scaling), and it has no public way to back-propagate a second loss
    into the same step. NetAug's step back-propagates the tiny loss, then
    the augmented one through ``update_params``: the first is uncounted
    here, so that the step counts once (tested with gradient accumulation
    in tests/test_models/test_separate_backward.py)."""
    optim_wrapper._inner_count -= 1
