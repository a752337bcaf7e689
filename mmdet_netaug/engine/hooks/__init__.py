"""Runner hooks."""
from .batched_targets import BatchedTargetsHook
from .bn_reestimation import BatchNormReestimation, ReestimateBNHook
from .epoch_seed import EpochSeedHook, epoch_seed
from .final_validation import FinalValidationHook
from .memory_format import MemoryFormatHook
from .netaug_hook import NetAugHook, sample_widths
from .teacher_classes import TeacherClassesHook

__all__ = [
    'BatchedTargetsHook', 'BatchNormReestimation', 'EpochSeedHook',
    'FinalValidationHook', 'MemoryFormatHook', 'NetAugHook',
    'ReestimateBNHook', 'TeacherClassesHook', 'epoch_seed', 'sample_widths'
]
