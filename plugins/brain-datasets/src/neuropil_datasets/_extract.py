"""Unpacking archives into the cache without letting a member escape it.

Members with absolute paths, ``..`` components, links (symbolic or hard) or device files are
refused before anything is written. Every unpacking happens in a temporary sibling folder (or
file) that is renamed into place only when complete, so a crash never leaves half an archive
where a complete one is expected.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from neuropil.errors import DatasetError

__all__ = ["extract", "gunzip"]

_CHUNK = 1 << 20


def _corrupt(archive: Path, exc: BaseException) -> DatasetError:
    return DatasetError(
        f"{archive} cannot be unpacked ({exc}): the archive is truncated or corrupt; delete it "
        "and run again to download it",
        path=os.fspath(archive),
    )


def gunzip(archive: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Decompress a ``.gz`` file to ``target`` atomically.

    Raises:
        DatasetError: the archive is truncated or not gzip.
    """
    archive, target = Path(archive), Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(archive, "rb") as src:
            shutil.copyfileobj(src, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except (OSError, EOFError, zlib.error) as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise _corrupt(archive, exc) from exc
    return target


def _check_name(archive: Path, name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise _escape(archive, name, "an absolute path")
    if ".." in path.parts:
        raise _escape(archive, name, "a '..' component")


def _escape(archive: Path, name: str, why: str) -> DatasetError:
    return DatasetError(
        f"{archive} holds member {name!r}, {why} that would be written outside the cache; "
        "refusing to unpack it: the archive is not the published one, delete it",
        path=os.fspath(archive),
    )


def _members_zip(archive: Path, zf: zipfile.ZipFile) -> None:
    for info in zf.infolist():
        _check_name(archive, info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _escape(archive, info.filename, "a symbolic link")


def _members_tar(archive: Path, tf: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tf.getmembers()
    for member in members:
        _check_name(archive, member.name)
        if member.issym() or member.islnk():
            raise _escape(archive, member.name, "a link")
        if not (member.isfile() or member.isdir()):
            raise _escape(archive, member.name, "a device or special file")
    return members


def extract(archive: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Unpack a ``.zip``, ``.tar``, ``.tar.gz``/``.tgz`` archive into the folder ``target``.

    ``target`` appears complete or not at all: the members go to a temporary sibling folder,
    which is renamed to ``target`` at the end. An existing ``target`` is returned unchanged.

    Raises:
        DatasetError: a member would escape ``target`` (absolute path, ``..``, link, device),
            or the archive is truncated, corrupt or of an unknown kind.
    """
    archive, target = Path(archive), Path(target)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _members_zip(archive, zf)
                zf.extractall(staging)
        elif _is_tar(archive):
            with tarfile.open(archive) as tf:
                members = _members_tar(archive, tf)
                for member in members:
                    member.mode = (member.mode | 0o600) & 0o777
                tf.extractall(staging, members=members, filter="data")
        else:
            raise DatasetError(
                f"{archive} is neither a zip nor a tar archive: wrong format; delete it and "
                "run again to download it",
                path=os.fspath(archive),
            )
        os.replace(staging, target)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise _corrupt(archive, exc) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False
