"""Atomic writes of local checkpoints.

mmengine 0.10.7 saves a checkpoint (``Runner.save_checkpoint`` ->
``mmengine.runner.checkpoint.save_checkpoint``) by serialising it into
memory and handing the bytes to the file backend of the path,
``get_file_backend(filename).put(bytes, filename)``; for a local path that
is ``LocalBackend.put``, which opens the destination with ``'wb'``
(truncating it) and writes. A process killed during that write leaves a
truncated file under the checkpoint's name, and if that name was the last
good checkpoint (the same file saved again, ``save_last``, a resumed run
re-saving an epoch) the good one is gone.

:class:`AtomicLocalBackend` writes to a temporary file in the same folder,
flushes and ``fsync``\\ s it, then renames it over the destination with
``os.replace`` (atomic on POSIX and Windows): readers see the old file or
the complete new one, never a partial one. :func:`install_atomic_local_backend`
registers it for local paths (``prefixes=''``); :mod:`mmdet_netaug.compat`
calls it when the package is imported.
"""
import glob
import os
import os.path as osp
import stat
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.utils import mkdir_or_exist


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()
#: Suffix of the temporary files of :func:`atomic_write_bytes`.
TEMP_SUFFIX = '.tmp'


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so that the file is either its old
    version or the complete new one, whatever happens during the write.

    The bytes go to a hidden temporary file beside the destination
    (``.NAME.*.tmp``), are flushed and ``fsync``\\ ed, and the file is then
    renamed over the destination with ``os.replace``; the folder is synced
    afterwards where the platform allows. A failed write removes the
    temporary file; a killed process may leave it behind, never a
    partial destination. A destination that exists and is not a regular
    file (a FIFO, a device such as ``/dev/null``) is written in place.
    """
    filepath = str(filepath)
    if _in_place(filepath):
        # A FIFO, a device (/dev/null), a process's open file (/dev/stdout,
        # /proc/self/fd/N): renaming would replace the node with a regular
        # file, or cannot happen there; write to it as open('wb') does.
        with open(filepath, 'wb') as f:
            f.write(data)
        return
    if osp.islink(filepath):  # write through a link, as open('wb') does
        filepath = osp.realpath(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    mkdir_or_exist(folder)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.',
                               suffix=TEMP_SUFFIX,
                               dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; give the file the mode open() would.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, filepath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _in_place(filepath: str) -> bool:
    """Whether ``filepath`` (links not yet resolved) is written in place:
    an existing node that is not a regular file, or a path through
    ``/dev`` or ``/proc`` (``/dev/stdout`` leads to the process's file
    descriptor, whatever it is open on)."""
    absolute = osp.abspath(filepath)
    if absolute.startswith(('/dev/', '/proc/')):
        return True
    try:
        return not stat.S_ISREG(os.stat(filepath).st_mode)
    except OSError:  # not there yet (or a dangling link): a new file
        return False


def remove_leftover_temp_files(folder: str, names: str = '*') -> None:
    """Remove the temporary files that killed :func:`atomic_write_bytes`
    calls left in ``folder`` for destinations matching the glob ``names``
    (``.NAME.*.tmp``); call it where no such write is under way (e.g. before
    the next checkpoint save)."""
    for leftover in glob.glob(osp.join(folder,
                                       f'.{names}.*{TEMP_SUFFIX}')):
        try:
            os.unlink(leftover)
        except OSError:
            pass


def _fsync_folder(folder: str) -> None:
    """Make the rename durable (POSIX; a no-op where folders can't be
    opened)."""
    flags = os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose ``put`` and ``put_text`` replace
    the destination atomically (see :func:`atomic_write_bytes`); reading
    and every other operation are unchanged."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically."""
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically."""
        atomic_write_bytes(obj.encode(encoding), filepath)


def install_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` the backend of local paths (the
    ``'local'`` name and the empty prefix) in mmengine's file I/O registry,
    which ``save_checkpoint`` and ``CheckpointHook`` look up per call.

    Backends mmengine made before this package was imported and keeps for
    reuse (``get_file_backend(..., enable_singleton=True)``, as
    ``CheckpointHook`` asks, caches them in ``mmengine.fileio.io.
    backend_instances``) are switched too: a plain ``LocalBackend`` there
    becomes an :class:`AtomicLocalBackend` in place (it has no state of its
    own), so that every holder of it writes atomically from now on.
    """
    from mmengine.fileio import io as fileio_io
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    for backend in fileio_io.backend_instances.values():
        if type(backend) is LocalBackend:
            backend.__class__ = AtomicLocalBackend
