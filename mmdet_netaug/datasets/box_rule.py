"""The one rule for a bad box, shared by the VOC converter and
:class:`~mmdet_netaug.datasets.CheckedCocoDataset`.

A COCO box ``[x, y, w, h]`` is checked against its image's size:

* not finite, zero or negative size: dropped;
* entirely outside the image: dropped;
* below one pixel (``w < 1`` or ``h < 1``, which mmdet drops), after
  clipping: dropped;
* partly outside: clipped to the image.
"""
import math
from typing import List, NamedTuple, Optional


class BoxCheck(NamedTuple):
    """What :func:`check_box` decided about one box."""
    box: Optional[List[float]]  # the box to use, or None to drop it
    reason: Optional[str]  # what is wrong (None: nothing)
    action: str  # 'kept', 'dropped' or 'clipped to [...]'


def check_box(x, y, w, h, width, height) -> BoxCheck:
    """Apply the rule to the COCO box ``[x, y, w, h]`` of a
    ``width`` x ``height`` image. Integer boxes stay integers."""
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        return BoxCheck(None, 'not finite', 'dropped')
    if w <= 0 or h <= 0:
        return BoxCheck(None, 'zero or negative size', 'dropped')
    x1, y1 = max(x, type(x)(0)), max(y, type(y)(0))
    x2, y2 = min(x + w, type(x)(width)), min(y + h, type(y)(height))
    if x2 <= x1 or y2 <= y1:
        return BoxCheck(None, f'entirely outside the {width}x{height} image',
                        'dropped')
    clipped = (x1, y1, x2, y2) != (x, y, x + w, y + h)
    if x2 - x1 < 1 or y2 - y1 < 1:
        where = f' inside the {width}x{height} image' if clipped else ''
        return BoxCheck(None, 'smaller than 1 pixel' + where, 'dropped')
    if clipped:
        box = [x1, y1, x2 - x1, y2 - y1]
        return BoxCheck(box, f'extends outside the {width}x{height} image',
                        f'clipped to {[round(v, 2) for v in box]}')
    return BoxCheck([x, y, w, h], None, 'kept')
