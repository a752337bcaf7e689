"""Dataset tools: VOC-to-COCO conversion, the synthetic shapes dataset and
``CheckedCocoDataset`` (bad boxes and unreadable images reported)."""
from .checked_coco import (CheckedCocoDataset, CorruptImageError,
                           InvalidBoxWarning)
from .hard_shapes import HARD_SHAPES_CLASSES, make_hard_shapes_coco
from .synthetic import (DEFAULT_IMAGE_SIZE, DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL,
                        SYNTHETIC_CLASSES, is_complete_synthetic_coco,
                        make_synthetic_coco)
from .voc_to_coco import (VOCConversionWarning, collect_voc_classes,
                          convert_voc_to_coco, load_class_names,
                          parse_voc_xml, read_split_ids)

__all__ = [
    'CheckedCocoDataset', 'CorruptImageError', 'InvalidBoxWarning',
    'convert_voc_to_coco', 'collect_voc_classes', 'load_class_names',
    'parse_voc_xml', 'read_split_ids', 'VOCConversionWarning',
    'make_synthetic_coco', 'is_complete_synthetic_coco', 'SYNTHETIC_CLASSES',
    'DEFAULT_NUM_TRAIN', 'DEFAULT_NUM_VAL', 'DEFAULT_IMAGE_SIZE',
    'HARD_SHAPES_CLASSES', 'make_hard_shapes_coco'
]
