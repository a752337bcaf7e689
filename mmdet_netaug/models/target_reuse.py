"""Target assignment shared by the tiny and the augmented pass of a step.

Anchor-to-ground-truth assignment depends on the anchors and the ground
truth only, not on which sub-network predicted (every sub-network has the
same outputs and feature-map sizes). :class:`TargetCache` records the
results of a head's target methods during the tiny pass and replays them,
in the same order, during the augmented pass. Prediction-dependent parts
(SSD's hard-negative mining, the losses themselves) still run per model.
"""
from contextlib import contextmanager
from typing import Dict, List, Tuple

import torch.nn as nn
from mmdet.models.dense_heads import AnchorHead, YOLOV3Head
from mmdet.models.task_modules import PseudoSampler

# Assigners that look at anchors and ground truth only.
_STATIC_ASSIGNERS = ('MaxIoUAssigner', 'GridAssigner', 'ATSSAssigner')


def reusable_target_methods(head: nn.Module) -> Tuple[str, ...]:
    """Methods of ``head`` whose results do not depend on predictions
    (empty when the head's assignment uses its predictions, e.g. SimOTA, or
    its sampler draws at random)."""
    assigner = type(getattr(head, 'assigner', None)).__name__
    if assigner not in _STATIC_ASSIGNERS:
        return ()
    # a sampler that draws (RandomSampler, OHEM) would hand the augmented
    # pass the tiny pass's draw: only the one that keeps every anchor
    sampler = getattr(head, 'sampler', None)
    if sampler is not None and type(sampler) is not PseudoSampler:
        return ()
    if isinstance(head, YOLOV3Head):
        return ('responsible_flags', 'get_targets')
    if isinstance(head, AnchorHead):
        return ('get_anchors', 'get_targets')
    return ()


class TargetCache:
    """Records a head's target computations once and replays them.

    Args:
        head (nn.Module): The detection head.
        methods (tuple[str]): Names of its prediction-independent methods
            (see :func:`reusable_target_methods`).

    Example:
        >>> cache = TargetCache(head, reusable_target_methods(head))
        >>> with cache.recording():
        ...     tiny_losses = detector.loss(inputs, samples)
        >>> with cache.replaying():
        ...     aug_losses = detector.loss(inputs, samples)  # no assignment
    """

    def __init__(self, head: nn.Module, methods: Tuple[str, ...]) -> None:
        self.head, self.methods = head, methods
        self.results: Dict[str, List[object]] = {m: [] for m in methods}

    @contextmanager
    def _patched(self, make):
        # An instance attribute shadows the method for a while; one that was
        # there before (e.g. use_batched_targets') comes back afterwards.
        before = {name: self.head.__dict__[name] for name in self.methods
                  if name in self.head.__dict__}
        for name in self.methods:
            object.__setattr__(self.head, name,
                               make(name, getattr(self.head, name)))
        try:
            yield self
        finally:
            for name in self.methods:
                object.__delattr__(self.head, name)
                if name in before:
                    object.__setattr__(self.head, name, before[name])

    def recording(self):
        """Run the methods and keep their results."""

        def make(name, method):

            def record(*args, **kwargs):
                result = method(*args, **kwargs)
                self.results[name].append(result)
                return result

            return record

        for results in self.results.values():
            results.clear()
        return self._patched(make)

    def replaying(self):
        """Return the recorded results, call by call, instead of running."""

        def make(name, method):
            calls = iter(self.results[name])

            def replay(*args, **kwargs):
                try:
                    return next(calls)
                except StopIteration:
                    raise RuntimeError(
                        f'{type(self.head).__name__}.{name} was called more '
                        'often in the augmented pass than in the tiny pass; '
                        'set reuse_targets=False for this head') from None

            return replay

        return self._patched(make)
