"""The NetAug backbone wrapper: a plain mmdet backbone and its width space."""
from typing import Optional, Sequence

import torch.nn as nn
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule

from .width_space import DEFAULT_EXPAND_CHOICES, WidthSpace


@MODELS.register_module()
class NetAugBackbone(BaseModule):
    """Wraps a plain backbone (the tiny model's) and declares how NetAug
    augments it.

    The wrapper builds the user's backbone unchanged and holds the
    :class:`WidthSpace`: block outputs take ``width_choices``, the hidden
    channels of blocks take ``expand_choices``. :class:`NetAugDetector`
    widens the backbone, the neck and the head with these choices.

    Args:
        backbone (dict): Config of the plain backbone, e.g.
            ``dict(type='MobileNetV2', widen_factor=0.35)``.
        width_choices (list[float], optional): Multipliers of the channels
            between blocks. Default: ``[1.0, 1.8, 2.6]``.
        expand_choices (list[float]): Multipliers of hidden channels.
            Default: ``[1.0, 1.6, 2.2, 2.8]``.
        augment_factor (float, optional): The paper's ``r`` (widest = r
            times the tiny width); with ``diversity_factor`` it replaces
            ``width_choices``.
        diversity_factor (int, optional): The paper's ``s`` (augmented
            widths evenly spaced above the tiny one).
        divisor (int): Augmented widths are multiples of it. Default: 8.
        expand_from_input (bool): Hidden channels also scale with the
            sampled width of their input, as in the NetAug authors' code
            (see :class:`WidthSpace`). Default: False.
        init_cfg (dict, optional): Initialisation config of the wrapper;
            inside a NetAugDetector it must be None (the tiny model would not
            get it): initialise the plain ``backbone`` instead.

    Example:
        >>> backbone = dict(
        ...     type='NetAugBackbone',
        ...     backbone=dict(type='MobileNetV2', widen_factor=0.35,
        ...                   out_indices=(4, 7)),
        ...     width_choices=[1.0, 1.8, 2.6])
    """

    def __init__(self,
                 backbone: ConfigType,
                 width_choices: Optional[Sequence[float]] = None,
                 expand_choices: Sequence[float] = DEFAULT_EXPAND_CHOICES,
                 augment_factor: Optional[float] = None,
                 diversity_factor: Optional[int] = None,
                 divisor: int = 8,
                 expand_from_input: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(backbone, dict) or 'type' not in backbone:
            raise ValueError('NetAugBackbone: field "backbone" must be the '
                             'config dict of a plain backbone (with a type), '
                             f'got {backbone!r}')
        self.width_space = WidthSpace(width_choices, expand_choices,
                                      augment_factor, diversity_factor,
                                      divisor, expand_from_input)
        self.backbone_cfg = dict(backbone)
        self.backbone: nn.Module = MODELS.build(backbone)

    def forward(self, x):
        """Run the (possibly widened) backbone."""
        return self.backbone(x)
