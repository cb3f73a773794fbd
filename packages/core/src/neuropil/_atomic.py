"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file neuropil writes goes through here: the data goes to a temporary file in the same
folder (so that the final ``os.replace`` is a rename within one file system), is flushed to
disk, and then replaces the target. New files get the ordinary mode ``0o666 & ~umask`` (a
temporary file is created private, ``0o600``, which would otherwise leak into the result).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["current_umask", "publish_dir", "write_bytes", "write_text", "write_with"]


def current_umask() -> int:
    """The process's umask, read without changing it (``os.umask`` would, for every thread).

    Linux reports it in ``/proc/self/status``; elsewhere a probe file created with mode
    ``0o777`` shows which bits the umask clears.
    """
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"Umask:"):
                return int(line.split()[1], 8)
    probe_dir = tempfile.mkdtemp(prefix=".neuropil-umask-")
    try:
        probe = os.path.join(probe_dir, "probe")
        os.close(os.open(probe, os.O_CREAT | os.O_WRONLY, 0o777))
        return 0o777 & ~os.stat(probe).st_mode
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)


def write_with(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` atomically: ``write(fh)`` fills a binary temporary file beside it.

    Raises:
        OSError: the folder cannot be written (nothing is left behind).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docs)."""
    write_with(path, lambda fh: fh.write(data))


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see the module docs)."""
    write_bytes(path, text.encode("utf-8"))


def publish_dir(staging: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Move the finished folder ``staging`` to ``target``, an empty folder reserved with
    ``os.mkdir`` (so that no one else can take the name meanwhile).

    ``staging`` gets the ordinary folder mode ``0o777 & ~umask`` (``mkdtemp`` makes it private)
    and is renamed over the empty ``target`` (POSIX ``rename`` replaces an empty folder
    atomically). Where the platform refuses that, the empty ``target`` is removed and the rename
    retried.

    Raises:
        OSError: ``target`` is not an empty folder, or the rename fails.
    """
    source, dest = Path(staging), Path(target)
    source.chmod(0o777 & ~current_umask())
    try:
        os.replace(source, dest)
    except OSError:
        # Windows cannot rename over a folder: give up the reservation only for the instant
        # of the rename (rmdir refuses a folder someone has written into).
        dest.rmdir()
        os.rename(source, dest)
