"""Validating a training resumed from its final checkpoint."""
import bisect

from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from mmdet.registry import HOOKS


def _interval_at(loop, step: int) -> int:
    """The validation interval the loop applied after reaching ``step``
    (mmengine's ``dynamic_intervals``, e.g. RTMDet's every epoch from epoch
    280 on: after each step the loop sets ``val_interval`` from them, by
    the next step, ``bisect(milestones, step + 1)``, so it validates every
    epoch from the milestone's epoch less one; a resumed loop has not set
    it yet)."""
    milestones = getattr(loop, 'dynamic_milestones', None)
    intervals = getattr(loop, 'dynamic_intervals', None)
    if not milestones or not intervals:
        return loop.val_interval
    return intervals[bisect.bisect(milestones, step + 1) - 1]


def _final_step(loop):
    """(where the loop stands, its last step, ``val_begin``, the
    validation interval there, the unit) in epochs or iterations, as the
    loop counts validation; None for another loop."""
    if isinstance(loop, EpochBasedTrainLoop):
        return (loop.epoch, loop.max_epochs, loop.val_begin,
                _interval_at(loop, loop.epoch), 'epoch')
    if isinstance(loop, IterBasedTrainLoop):
        return (loop.iter, loop.max_iters, loop.val_begin,
                _interval_at(loop, loop.iter), 'iteration')
    return None


@HOOKS.register_module()
class FinalValidationHook(Hook):
    """Validates the final checkpoint of a training resumed with nothing
    left to train.

    mmengine saves the last epoch's checkpoint and validates after it, and
    its train loops validate only after training a step. A training stopped
    during its final validation (killed, a machine's end) therefore resumes
    from the final checkpoint, trains nothing and exits with status 0 and
    no final metrics: the run looks finished and its last result is
    missing. This hook runs that validation at ``before_train`` when the
    loop is already at its end and the loop would have validated there
    (mmengine's ``val_begin`` rule), after the ``before_train`` of the
    runner's other hooks (its priority is the lowest). Resuming a training
    whose final validation did run validates it once more (the same
    checkpoint, the same metrics).
    :class:`~mmdet_netaug.engine.CheckedRunner` (``tools/train.py``)
    registers it; with mmengine's own ``Runner`` add
    ``dict(type='FinalValidationHook')`` to ``custom_hooks``.

    With ``at_resume=True`` (``CheckedRunner``: the config field
    ``validate_at_resume=True``) it validates any checkpoint a training
    resumes from at which the loop validates (``val_begin`` and
    ``val_interval``), not only the final one: a sitting stopped between
    an epoch's checkpoint and its validation leaves that epoch without
    metrics, and the next sitting would go on without them (the comparison
    tool asks for this exactly then).
    """

    priority = 'LOWEST'

    def __init__(self, at_resume: bool = False) -> None:
        if not isinstance(at_resume, bool):
            raise TypeError('FinalValidationHook at_resume (config field '
                            f'validate_at_resume): expected True or False, '
                            f'got {at_resume!r}')
        self.at_resume = at_resume

    def before_train(self, runner) -> None:
        position = _final_step(runner.train_loop)
        if position is None or runner.val_loop is None:
            return
        at, last, val_begin, interval, unit = position
        # at > last: a longer schedule's checkpoint, which mmengine does
        # not validate either; at == 0: nothing was trained or resumed
        if at > last or at == 0 or at < val_begin:
            return
        if at == last:
            runner.logger.info(
                f'resumed at the final {unit} ({at}) with nothing to train: '
                'validating the final checkpoint')
        elif self.at_resume and at % interval == 0:
            runner.logger.info(
                f'resumed at {unit} {at}, which the training validates: '
                'validating the checkpoint before training on')
        else:
            return
        if unit == 'epoch':
            _switch_data_as_of(runner, at)
        runner.val_loop.run()


def _switch_data_as_of(runner, epoch: int) -> None:
    """Put the training data where it was while ``epoch`` trained, before a
    validation at resume: mmdet's ``PipelineSwitchHook`` (RTMDet's second
    stage) and ``YOLOXModeSwitchHook`` (YOLOX without Mosaic and MixUp)
    switch at an epoch's start, which a resumed run has not reached yet.
    NetAug's BatchNorm re-estimation before the validation draws its
    batches from that data, so without this a resumed run would measure
    its statistics on the first stage's images where the uninterrupted run
    used the second stage's. The hooks act as at the start of ``epoch``
    (``runner.epoch`` the epochs done before it); switched once, they do
    not switch again."""
    from mmdet.engine.hooks import PipelineSwitchHook, YOLOXModeSwitchHook
    switches = [h for h in runner.hooks
                if isinstance(h, (PipelineSwitchHook, YOLOXModeSwitchHook))]
    if not switches:
        return
    loop = runner.train_loop
    done = loop._epoch
    loop._epoch = epoch - 1
    try:
        for hook in switches:
            hook.before_train_epoch(runner)
    finally:
        loop._epoch = done
