"""``CheckedCocoDataset`` (bad boxes and unreadable images reported),
``FastMinIoURandomCrop`` (mmdet's crop, same results, faster) and the box
rule it shares with tools/dataset_converters/voc_to_coco.py. The
converters and the dataset generators themselves are tools (tools/)."""
from .checked_coco import (CheckedCocoDataset, CorruptImageError,
                           InvalidBoxWarning)
from .transforms import FastMinIoURandomCrop

__all__ = ['CheckedCocoDataset', 'CorruptImageError', 'InvalidBoxWarning',
           'FastMinIoURandomCrop']
