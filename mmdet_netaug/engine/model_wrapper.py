"""The DDP wrapper that gives NetAug its two backward passes."""
from typing import Dict, Union

from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper
from mmengine.registry import MODEL_WRAPPERS
from torch import Tensor

from ..models import NetAugDetector, netaug_train_step


# mmengine's root registry: Runner.wrap_model looks the type up there
# (mmdet's child registry still finds it through its parent).
@MODEL_WRAPPERS.register_module()
class NetAugDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` whose ``train_step`` is NetAug's.

    mmengine's wrapper computes the training losses in one forward of the
    module and back-propagates them once, so the tiny and the augmented
    pass would hold their activations together. This one runs
    :func:`~mmdet_netaug.models.netaug_train_step`: the tiny pass (forward
    and backward, without gradient all-reduce), then the augmented pass,
    whose backward all-reduces the summed gradients. Other modules and
    steps (see ``NetAugDetector.two_backward_passes``) train as under
    ``MMDistributedDataParallel``.

    Select it with ``model_wrapper_cfg``, as the NetAug configs do::

        model_wrapper_cfg = dict(type='NetAugDistributedDataParallel',
                                 broadcast_buffers=False,
                                 find_unused_parameters=False)
    """

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        module = self.module
        if isinstance(module, NetAugDetector):
            widths = module.scheduled_widths()
            if module.two_backward_passes(optim_wrapper, widths):
                return netaug_train_step(self, module, data, optim_wrapper,
                                         widths)
        # one forward of both losses (mode='loss' takes the schedule's
        # sub-network), one backward: mmengine's step
        return super().train_step(data, optim_wrapper)
