"""The records every tool writes: atomic JSON and the device description."""
import json
import os

import pytest

from mmdet_netaug.utils.records import (cpu_model, device_description,
                                        read_json, write_json)


def test_json_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / 'sub' / 'results.json'
    write_json(str(path), dict(a=1))
    assert read_json(str(path)) == dict(a=1)
    assert json.loads(path.read_text()) == dict(a=1)
    # a failure while writing leaves the previous file as it was
    def broken_replace(*args):
        raise OSError('disk full')
    monkeypatch.setattr(os, 'replace', broken_replace)
    with pytest.raises(OSError, match='disk full'):  # said, not swallowed
        write_json(str(path), dict(a=2))
    assert read_json(str(path)) == dict(a=1)
    assert os.listdir(path.parent) == ['results.json']  # no temporary left
    assert read_json(str(tmp_path / 'missing.json')) is None
    (tmp_path / 'half.json').write_text('{"a": ')
    assert read_json(str(tmp_path / 'half.json')) is None


def test_device_description_names_the_device():
    description = device_description()
    assert description.startswith(('cpu: ', 'cuda: '))
    if description.startswith('cpu: '):
        assert cpu_model() in description
        assert description.endswith(f'{os.cpu_count()} cores')
