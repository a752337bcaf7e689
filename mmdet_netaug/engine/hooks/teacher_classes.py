"""Checking a distillation teacher's classes against the training data."""
from mmengine.hooks import Hook

from mmdet.registry import HOOKS
from ...models.distillation import check_teacher_classes
from .bn_reestimation import unwrapped


@HOOKS.register_module()
class TeacherClassesHook(Hook):
    """Before training, refuses a distillation teacher whose checkpoint was
    trained on other classes than the training dataset's, or on the same
    ones in another order (the heads' shapes alone cannot tell), and warns
    when either records no class names. Does nothing for a model without a
    teacher. :class:`~mmdet_netaug.engine.CheckedRunner` (``tools/train.py``)
    registers it for every model with a teacher; with mmengine's own
    ``Runner`` add ``dict(type='TeacherClassesHook')`` to ``custom_hooks``.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        distiller = getattr(unwrapped(runner), 'distiller', None)
        if distiller is None:
            return
        dataset = runner.train_dataloader.dataset
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        warning = check_teacher_classes(
            distiller, classes,
            f'the training dataset ({type(dataset).__name__})')
        if warning:
            runner.logger.warning(warning)
