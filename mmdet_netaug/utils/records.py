"""Small records the tools write: JSON files (mmengine's JSON handler,
written atomically) and the description of the device that produced
them."""
import os
import platform
from typing import Optional

from mmengine.fileio import dump, load

from ..engine.atomic_checkpoint import atomic_write_bytes


def read_json(path: str) -> Optional[dict]:
    """A JSON file's content, or None when it is missing or unreadable."""
    try:
        return load(str(path), file_format='json')
    except (OSError, ValueError):
        return None


def write_json(path: str, data, **dump_options) -> None:
    """Write ``data`` as JSON (mmengine's handler: NumPy numbers too)
    atomically, with the writer of checkpoints
    (:func:`~mmdet_netaug.engine.atomic_write_bytes`): a reader never sees
    half a file, e.g. when a comparison is stopped while saving."""
    text = dump(data, file_format='json', **{'indent': 2, **dump_options})
    atomic_write_bytes(text.encode('utf-8'), path)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or the platform's."""
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return model


def device_description() -> str:
    """``'cuda: <GPU name>'`` or ``'cpu: <CPU model>, <n> cores'``."""
    try:
        import torch
        if torch.cuda.is_available():
            return f'cuda: {torch.cuda.get_device_name(0)}'
    except ImportError:
        pass
    return f'cpu: {cpu_model()}, {os.cpu_count()} cores'
