"""Safe checkpoints: arbitrary pickled objects are refused, and a checkpoint
write killed halfway never replaces the previous file.

mmengine 0.10.7 writes every checkpoint (``Runner.save_checkpoint`` ->
``mmengine.runner.checkpoint.save_checkpoint``) with
``get_file_backend(path).put(bytes, path)``; for local paths that is the
backend this package registers (``AtomicLocalBackend``). The failures are
real: a child process with a file-size limit (``RLIMIT_FSIZE``) writes a
checkpoint larger than the limit, and the kernel either kills it with
SIGXFSZ in the middle of the write ('kill') or fails the write halfway with
EFBIG ('error', Python's default, as on a full disk).
"""
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
from mmengine.fileio import get_file_backend
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import save_checkpoint

from mmdet_netaug.engine import AtomicLocalBackend, atomic_write_bytes

pytestmark = pytest.mark.skipif(not hasattr(signal, 'SIGXFSZ'),
                                reason='needs POSIX file-size limits')

LIMIT = 1 << 20  # the child may write 1 MiB, its checkpoint has 16 MiB

CHILD = textwrap.dedent('''
    import resource, signal, sys
    import torch
    if sys.argv[3] == 'kill':
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it
    if sys.argv[2] == 'netaug':
        import mmdet_netaug  # noqa: F401  (registers the atomic backend)
    from mmengine.runner.checkpoint import save_checkpoint
    checkpoint = dict(meta=dict(epoch=2),
                      state_dict={'weight': torch.ones(4 << 20)})
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (%d, %d))
    print('writing', flush=True)
    save_checkpoint(checkpoint, sys.argv[1])
    print('finished', flush=True)
''' % (LIMIT, LIMIT))


def _good_checkpoint(path):
    model = nn.Conv2d(3, 4, 3)
    save_checkpoint(dict(meta=dict(epoch=1), state_dict=model.state_dict()),
                    str(path))
    return model.state_dict()


def _failed_save(repo, path, backend, failure):
    """Save a 16 MiB checkpoint over ``path`` in a child process whose
    write stops after 1 MiB (killed, or failing with EFBIG)."""
    env = dict(os.environ,
               OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [str(repo), os.environ.get('PYTHONPATH', '')]))
    result = subprocess.run(
        [sys.executable, '-c', CHILD,
         str(path), backend, failure],
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert 'writing' in result.stdout, result.stderr[-3000:]
    assert 'finished' not in result.stdout
    if failure == 'kill':
        assert result.returncode == -signal.SIGXFSZ, result.stderr[-3000:]
    else:
        assert result.returncode == 1
        assert 'File too large' in result.stderr, result.stderr[-3000:]


def test_local_checkpoints_are_written_by_the_atomic_backend(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    assert isinstance(get_file_backend(str(path)), AtomicLocalBackend)
    state = _good_checkpoint(path)
    loaded = torch.load(path, weights_only=True)
    assert all(
        torch.equal(loaded['state_dict'][k], v) for k, v in state.items())
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temporary left
    # the mode open() gives a new file (mkstemp's own is 0600)
    umask = os.umask(0o022)
    os.umask(umask)
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~umask)


def test_backends_made_before_the_import_are_switched_too(tmp_path):
    """A LocalBackend that mmengine made and cached before the package was
    imported (CheckpointHook asks for a cached one) writes atomically."""
    child = textwrap.dedent('''
        from mmengine.fileio import LocalBackend, get_file_backend
        early = get_file_backend('/tmp', enable_singleton=True)
        assert type(early) is LocalBackend
        import mmdet_netaug  # noqa: F401
        from mmdet_netaug.engine import AtomicLocalBackend
        assert get_file_backend('/tmp', enable_singleton=True) is early
        print(type(early).__name__, isinstance(early, AtomicLocalBackend))
    ''')
    result = subprocess.run([sys.executable, '-c', child],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.stdout.split() == ['AtomicLocalBackend', 'True'], \
        result.stderr[-3000:]


@pytest.mark.parametrize('failure', ['kill', 'error'])
def test_stock_mmengine_write_stopped_halfway_destroys_the_last_good_file(
        repo, tmp_path, failure):
    """The failure this package prevents, with mmengine's own backend."""
    path = tmp_path / 'latest.pth'
    _good_checkpoint(path)
    _failed_save(repo, path, 'stock', failure)
    assert path.stat().st_size == LIMIT  # truncated to what was written
    with pytest.raises(Exception):
        torch.load(path, weights_only=True)


@pytest.mark.parametrize('failure', ['kill', 'error'])
def test_write_stopped_halfway_leaves_the_last_good_checkpoint_intact(
        repo, tmp_path, failure):
    path = tmp_path / 'latest.pth'
    state = _good_checkpoint(path)
    before = path.read_bytes()
    _failed_save(repo, path, 'netaug', failure)
    assert path.read_bytes() == before
    loaded = torch.load(path, weights_only=True)
    assert loaded['meta'] == dict(epoch=1)
    assert all(
        torch.equal(loaded['state_dict'][k], v) for k, v in state.items())
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != path.name]
    if failure == 'error':
        assert leftovers == []  # the temporary file was removed
    else:
        # a killed write leaves a hidden temporary, never a checkpoint name
        assert len(leftovers) == 1
        assert leftovers[0].startswith('.latest.pth.')
        assert leftovers[0].endswith('.tmp')
        assert (tmp_path / leftovers[0]).stat().st_size == LIMIT


def test_failed_write_keeps_the_old_file_and_removes_the_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / 'epoch_3.pth'
    path.write_bytes(b'old')

    def fail(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', fail)
    with pytest.raises(OSError, match='No space left'):
        atomic_write_bytes(b'new contents', path)
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['epoch_3.pth']


@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='needs FIFOs')
def test_a_fifo_or_device_is_written_in_place_not_replaced(tmp_path):
    """mmengine writes every local file through the backend (``dump`` to
    ``/dev/stdout``, a named pipe): those stay what they are."""
    import stat
    import threading
    fifo = tmp_path / 'pipe'
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(
        target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    get_file_backend(str(fifo)).put(b'through the pipe', str(fifo))
    reader.join(timeout=10)
    assert received == [b'through the pipe']
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ['pipe']
    atomic_write_bytes(b'discarded', os.devnull)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_dev_stdout_is_written_through_not_replaced(tmp_path):
    """``/dev/stdout`` leads to the process's standard output, a pipe or
    a file: the bytes go there (a pipe has no folder to rename in)."""
    script = textwrap.dedent('''
        import sys
        from mmdet_netaug.engine import atomic_write_bytes
        print('before', flush=True)
        atomic_write_bytes(b'dumped\\n', '/dev/stdout')
        print('after', flush=True)
    ''')
    piped = subprocess.run([sys.executable, '-c', script],
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.split() == ['before', 'dumped', 'after']


class _RunsACommand:
    """Unpickling this calls os.system (what a malicious checkpoint does)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_load_checkpoint_refuses_arbitrary_objects_naming_the_file(tmp_path):
    marker = tmp_path / 'code_was_run'
    path = tmp_path / 'evil.pth'
    model = nn.Conv2d(3, 4, 3)
    torch.save(
        dict(state_dict=model.state_dict(),
             meta=dict(payload=_RunsACommand(marker))), path)
    with pytest.raises(pickle.UnpicklingError) as error:
        load_checkpoint(model, str(path), map_location='cpu')
    assert f'Refused to load checkpoint {path}' in str(error.value)
    assert f'{os.system.__module__}.system' in str(error.value)  # the culprit
    assert not marker.exists()
