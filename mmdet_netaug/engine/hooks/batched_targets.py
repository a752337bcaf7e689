"""Anchor targets computed for the whole batch at once."""
from mmengine.hooks import Hook

from mmdet.registry import HOOKS
from ...models.batched_targets import use_batched_targets
from .bn_reestimation import unwrapped


@HOOKS.register_module()
class BatchedTargetsHook(Hook):
    """Before the run, gives every head of the model that computes anchor
    targets with mmdet's ``AnchorHead.get_targets`` and ``MaxIoUAssigner``
    (SSD, SSDLite, RetinaNet) or ``YOLOV3Head.get_targets`` and
    ``GridAssigner`` (YOLOv3), with ``PseudoSampler``, a ``get_targets``
    that assigns the whole batch at once
    (:mod:`mmdet_netaug.models.batched_targets`).
    The targets are mmdet's, bit for bit; only the number of small
    operations falls. :class:`~mmdet_netaug.engine.CheckedRunner` registers
    it from the config field ``batched_targets=True``
    (``--cfg-options batched_targets=True``). Nothing is saved in
    checkpoints, and an exported model is stock mmdet either way.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        heads = [type(m).__name__ for m in unwrapped(runner).modules()
                 if use_batched_targets(m)]
        if heads:
            runner.logger.info('batched anchor targets (BatchedTargetsHook) '
                               f'for {", ".join(heads)}')
        else:
            runner.logger.warning(
                'BatchedTargetsHook: no head of this model computes its '
                'targets with AnchorHead.get_targets and MaxIoUAssigner or '
                'YOLOV3Head.get_targets and GridAssigner, with '
                'PseudoSampler; mmdet\'s own target code runs')
