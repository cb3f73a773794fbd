"""Extraction refuses members escaping the cache and never leaves half a folder."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from neuropil.errors import DatasetError
from neuropil_datasets import extract, gunzip


def test_zip_and_tar_extract(formats: Any, tmp_path: Path) -> None:
    z = formats.zip(tmp_path / "a.zip", {"top/1/x.bin": b"abc", "top/readme": b"r"})
    t = formats.tar_gz(tmp_path / "a.tar.gz", {"top/1/x.bin": b"abc"})
    assert (extract(z, tmp_path / "z") / "top" / "1" / "x.bin").read_bytes() == b"abc"
    assert (extract(t, tmp_path / "t") / "top" / "1" / "x.bin").read_bytes() == b"abc"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("name", "why"), [("../evil", "'..' component"), ("/etc/evil", "absolute path")]
)
def test_escaping_members_are_refused(formats: Any, tmp_path: Path, name: str, why: str) -> None:
    for archive in (
        formats.zip(tmp_path / "bad.zip", {"ok": b"1", name: b"2"}),
        formats.tar_gz(tmp_path / "bad.tar.gz", {"ok": b"1", name: b"2"}),
    ):
        with pytest.raises(DatasetError, match=why) as err:
            extract(archive, tmp_path / "out")
        assert "outside the cache" in str(err.value)
        assert not (tmp_path / "out").exists()
    assert not (tmp_path.parent / "evil").exists()


def test_symlink_in_tar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "link.tar"
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo("data/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(DatasetError, match="a link"):
        extract(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_symlink_in_zip_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("data/link")
        info.external_attr = (0o120777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match="symbolic link"):
        extract(path, tmp_path / "out")


def test_truncated_and_unknown_archives(formats: Any, tmp_path: Path) -> None:
    t = formats.tar_gz(tmp_path / "a.tar.gz", {"x": os.urandom(5000)})
    short = tmp_path / "short.tar.gz"
    short.write_bytes(t.read_bytes()[:200])
    with pytest.raises(DatasetError, match=r"short\.tar\.gz"):
        extract(short, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not an archive")
    with pytest.raises(DatasetError, match="neither a zip nor a tar archive"):
        extract(junk, tmp_path / "out2")


def test_gunzip_atomic_and_truncated(formats: Any, tmp_path: Path) -> None:
    data = os.urandom(20000)
    g = formats.gz(tmp_path / "f.gz", data)
    assert gunzip(g, tmp_path / "f").read_bytes() == data
    cut = tmp_path / "cut.gz"
    cut.write_bytes(g.read_bytes()[:1000])
    with pytest.raises(DatasetError, match="truncated or corrupt; delete it"):
        gunzip(cut, tmp_path / "cut")
    assert not (tmp_path / "cut").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_tar_member_modes_do_not_matter(tmp_path: Path) -> None:
    path = tmp_path / "ro.tar"
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo("d/f")
        info.size = 1
        info.mode = 0o000
        tf.addfile(info, io.BytesIO(b"1"))
    assert (extract(path, tmp_path / "o") / "d" / "f").read_bytes() == b"1"
