"""Small records the tools write: JSON files (written atomically) and the
description of the device that produced them."""
import json
import os
import os.path as osp
import platform
from typing import Optional


def read_json(path: str) -> Optional[dict]:
    """A JSON file's content, or None when it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path: str, data, **dump_options) -> None:
    """Write ``data`` as JSON atomically: into a temporary file beside
    ``path``, then renamed over it, so that a reader never sees half a
    file (e.g. when a comparison is stopped while saving)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, **{'indent': 2, **dump_options})
    os.replace(tmp, path)


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
