"""Downloads that resume, verify and never leave a half file where a good one is expected.

A :class:`Resource` is one file a publisher serves. :func:`fetch` puts it in a folder:

1. If the file is already there, its checksum is verified and it is used.
2. Otherwise, unless offline (``NEUROPIL_OFFLINE=1``) or the publisher offers no direct
   download, it is streamed to ``<name>.part`` with ``urllib``; an existing ``.part`` is resumed
   with an HTTP ``Range`` request (a server that ignores it restarts the file).
3. The ``.part`` file's checksum is verified; only then is it renamed to ``<name>`` with
   ``os.replace``. A wrong checksum deletes the ``.part`` file.

Every failure is a :class:`~neuropil.errors.DatasetError` naming the file, the address and where
to put a copy fetched by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from neuropil.errors import DatasetError
from neuropil_datasets._cache import OFFLINE_ENV, is_offline

__all__ = ["Resource", "checksum_of", "fetch", "verify"]

_CHUNK = 1 << 20
_ALGORITHMS = ("md5", "sha256")
_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Resource:
    """One file of a dataset as its publisher serves it.

    Attributes:
        filename: The name in the cache folder (``"shd_train.h5.gz"``).
        url: Where the publisher serves it (``https://``, ``http://`` or ``file://``).
        checksum: ``"sha256:<hex>"`` or ``"md5:<hex>"`` (the publisher's published MD5s), or
            ``None`` to read it from ``checksum_list``.
        checksum_list: Address of the publisher's checksum list (lines ``<md5>  <filename>``,
            as ``md5sum`` writes them), used when ``checksum`` is ``None``.
        manual: The publisher offers no direct download (a web page with a form or a file
            browser): the user fetches the file by hand from ``url``.
    """

    filename: str
    url: str
    checksum: str | None = None
    checksum_list: str | None = None
    manual: bool = False


def checksum_of(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The hex digest of a file (``algorithm`` is ``"sha256"`` or ``"md5"``)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _split_checksum(checksum: str, where: str) -> tuple[str, str]:
    algorithm, _, value = checksum.partition(":")
    if algorithm not in _ALGORITHMS or not value:
        raise DatasetError(
            f"checksum {checksum!r} of {where} is not '<algorithm>:<hex>' with algorithm "
            f"{' or '.join(_ALGORITHMS)}; write it as 'sha256:<64 hex digits>'",
            path=where,
        )
    return algorithm, value.lower()


def _mismatch(path: str | os.PathLike[str], checksum: str) -> tuple[str, str, str] | None:
    """``(algorithm, found, expected)`` when ``path`` does not match ``checksum``, else None."""
    algorithm, want = _split_checksum(checksum, os.fspath(path))
    got = checksum_of(path, algorithm)
    return None if got == want else (algorithm, got, want)


def verify(path: str | os.PathLike[str], checksum: str, *, url: str = "") -> None:
    """Check a file against ``checksum`` (``"sha256:<hex>"`` or ``"md5:<hex>"``).

    Raises:
        DatasetError: the digest differs (the message names the file, both digests and the
            fix: delete the file so that it is downloaded again).
    """
    bad = _mismatch(path, checksum)
    if bad is not None:
        algorithm, got, want = bad
        source = f" from {url}" if url else ""
        raise DatasetError(
            f"{path} has {algorithm} {got}, expected {want}: the file is truncated, corrupt "
            f"or not the published one; delete it and run again to download it{source}",
            path=os.fspath(path),
        )


def _open(url: str, start: int = 0) -> object:
    request = urllib.request.Request(url, headers={"User-Agent": "neuropil-datasets"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    return urllib.request.urlopen(request, timeout=_TIMEOUT_S)


def _manual_hint(resource: Resource, target: Path) -> str:
    return (
        f"download {resource.filename} from {resource.url} and save it as {target} "
        "(or set NEUROPIL_DATA to a folder that holds it)"
    )


def _published_checksum(resource: Resource, target: Path) -> str:
    if resource.checksum is not None:
        return resource.checksum
    if resource.checksum_list is None:
        raise DatasetError(
            f"resource {resource.filename} has neither a checksum nor a checksum list; give "
            "Resource(checksum='sha256:...')",
            path=os.fspath(target),
        )
    try:
        with _open(resource.checksum_list) as response:  # type: ignore[attr-defined]
            text = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise DatasetError(
            f"could not read the checksum list {resource.checksum_list} needed to verify "
            f"{resource.filename} ({exc}); check the network, or {_manual_hint(resource, target)}",
            path=os.fspath(target),
        ) from exc
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == resource.filename:
            return f"md5:{parts[0].lower()}"
    raise DatasetError(
        f"the checksum list {resource.checksum_list} does not list {resource.filename}; the "
        "publisher changed its files: update neuropil-datasets",
        path=os.fspath(target),
    )


def fetch(resource: Resource, folder: str | os.PathLike[str]) -> Path:
    """The verified local copy of ``resource`` in ``folder``, downloading it if needed.

    Args:
        resource: The file to get.
        folder: The cache folder to keep it in (created if missing).

    Returns:
        ``folder / resource.filename``, whose checksum matched.

    Raises:
        DatasetError: offline (``NEUROPIL_OFFLINE=1``) or a publisher without direct download
            and the file is missing; the download failed (the ``.part`` file stays, to be
            resumed); the checksum is wrong (the bad download is deleted).
    """
    target = Path(folder) / resource.filename
    if target.is_file():
        verify(target, _published_checksum(resource, target), url=resource.url)
        return target
    if resource.manual:
        raise DatasetError(
            f"{resource.filename} is not in the cache and its publisher offers no direct "
            f"download: {_manual_hint(resource, target)}",
            path=os.fspath(target),
        )
    if is_offline():
        raise DatasetError(
            f"{resource.filename} is not in the cache and downloads are off ({OFFLINE_ENV}=1): "
            f"{_manual_hint(resource, target)}, or unset {OFFLINE_ENV}",
            path=os.fspath(target),
        )
    checksum = _published_checksum(resource, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    _download(resource, part, target)
    bad = _mismatch(part, checksum)
    if bad is not None:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        algorithm, got, want = bad
        raise DatasetError(
            f"{target.name} downloaded from {resource.url} has {algorithm} {got}, expected "
            f"{want}: the download was corrupted or the publisher changed the file; the bad "
            f"download was deleted, run again to retry (if it fails again, "
            f"{_manual_hint(resource, target)})",
            path=os.fspath(target),
        )
    os.replace(part, target)
    return target


def _download(resource: Resource, part: Path, target: Path) -> None:
    start = part.stat().st_size if part.is_file() else 0
    try:
        with _open(resource.url, start) as response:  # type: ignore[attr-defined]
            status = getattr(response, "status", None) or response.getcode()
            # 206: the server resumes; anything else sends the whole file from byte 0.
            mode = "ab" if start and status == 206 else "wb"
            with open(part, mode) as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:
            # The .part file is already complete (or longer than the file): verify decides.
            return
        raise DatasetError(
            f"downloading {resource.filename} from {resource.url} failed: HTTP {exc.code} "
            f"{exc.reason}; try again later, or {_manual_hint(resource, target)}",
            path=os.fspath(target),
        ) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise DatasetError(
            f"downloading {resource.filename} from {resource.url} failed ({exc}); the partial "
            f"file {part} is kept and resumed on the next try; check the network, or "
            f"{_manual_hint(resource, target)}",
            path=os.fspath(target),
        ) from exc
