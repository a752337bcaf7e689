"""NetAug models: width space, channel graph, supernet and the wrappers."""
from .bn_calibration import recalibrate_batchnorm
from .channel_graph import (ChannelGraph, ChannelGroup, LayerChannels,
                            UnsupportedModelError)
from .distillation import (DistilledSingleStageDetector, Distiller,
                           TeacherMismatchError)
from .netaug_backbone import NetAugBackbone
from .netaug_detector import NetAugDetector
from .train_step import netaug_train_step, uncount_backward
from .supernet import Supernet, permute_copy, permute_optimizer_state
from .width_space import WidthSpace, choices_from_factors

__all__ = [
    'ChannelGraph', 'ChannelGroup', 'DistilledSingleStageDetector',
    'Distiller', 'TeacherMismatchError', 'LayerChannels',
    'UnsupportedModelError',
    'NetAugBackbone', 'NetAugDetector', 'Supernet', 'WidthSpace',
    'choices_from_factors', 'netaug_train_step', 'permute_copy',
    'permute_optimizer_state', 'recalibrate_batchnorm', 'uncount_backward'
]
