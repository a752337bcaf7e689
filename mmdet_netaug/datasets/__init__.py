"""``CheckedCocoDataset`` (bad boxes and unreadable images reported) and the
box rule it shares with tools/dataset_converters/voc_to_coco.py. The
converters and the dataset generators themselves are tools (tools/)."""
from .checked_coco import (CheckedCocoDataset, CorruptImageError,
                           InvalidBoxWarning)

__all__ = ['CheckedCocoDataset', 'CorruptImageError', 'InvalidBoxWarning']
