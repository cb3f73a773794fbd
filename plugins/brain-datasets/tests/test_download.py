"""Downloads: resume, checksums, offline mode, partial-file safety."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from neuropil.errors import DatasetError
from neuropil_datasets import Resource, fetch, verify

PAYLOAD = bytes(range(256)) * 400  # 102400 bytes


def _serve(server: Any, name: str = "blob.bin", data: bytes = PAYLOAD) -> Resource:
    (server.root / name).write_bytes(data)
    return Resource(name, server.url(name), "sha256:" + hashlib.sha256(data).hexdigest())


def test_fetch_downloads_verifies_and_reuses(server: Any, tmp_path: Path) -> None:
    res = _serve(server)
    got = fetch(res, tmp_path / "c")
    assert got == tmp_path / "c" / "blob.bin"
    assert got.read_bytes() == PAYLOAD
    assert not (tmp_path / "c" / "blob.bin.part").exists()
    fetch(res, tmp_path / "c")
    assert len(server.requests) == 1  # the second call used the cache


def test_fetch_resumes_a_partial_download_with_range(server: Any, tmp_path: Path) -> None:
    res = _serve(server)
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "blob.bin.part").write_bytes(PAYLOAD[:40000])
    assert fetch(res, folder).read_bytes() == PAYLOAD
    assert server.requests == [("/blob.bin", "bytes=40000-")]


def test_fetch_restarts_when_the_server_ignores_range(server: Any, tmp_path: Path) -> None:
    res = _serve(server)
    server.ignore_range = True
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "blob.bin.part").write_bytes(b"garbage" * 10)
    assert fetch(res, folder).read_bytes() == PAYLOAD


def test_interrupted_download_keeps_part_and_resumes(server: Any, tmp_path: Path) -> None:
    res = _serve(server)
    folder = tmp_path / "c"
    server.cut_after = 30000
    with pytest.raises(DatasetError) as err:
        fetch(res, folder)
    # A cut connection either fails the read or delivers a short file whose checksum fails.
    assert "blob.bin" in str(err.value)
    assert not (folder / "blob.bin").exists()
    server.cut_after = None
    assert fetch(res, folder).read_bytes() == PAYLOAD


def test_bad_checksum_deletes_the_download_and_says_so(server: Any, tmp_path: Path) -> None:
    res = _serve(server)
    bad = Resource(res.filename, res.url, "sha256:" + "0" * 64)
    with pytest.raises(
        DatasetError,
        match=r"blob\.bin downloaded from http.* has sha256 .*expected 0{64}.*bad download",
    ):
        fetch(bad, tmp_path / "c")
    assert not (tmp_path / "c" / "blob.bin").exists()
    assert not (tmp_path / "c" / "blob.bin.part").exists()


def test_existing_corrupt_file_is_refused(server: Any, tmp_path: Path) -> None:
    res = _serve(server)
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "blob.bin").write_bytes(PAYLOAD[:100])
    with pytest.raises(DatasetError, match="truncated, corrupt or not the published one") as err:
        fetch(res, folder)
    assert err.value.path == str(folder / "blob.bin")


def test_offline_mode_names_file_url_and_place(
    server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = _serve(server)
    monkeypatch.setenv("NEUROPIL_OFFLINE", "1")
    with pytest.raises(DatasetError) as err:
        fetch(res, tmp_path / "c")
    msg = str(err.value)
    assert "NEUROPIL_OFFLINE=1" in msg
    assert res.url in msg
    assert str(tmp_path / "c" / "blob.bin") in msg
    assert server.requests == []


def test_missing_network_says_where_to_put_the_file(tmp_path: Path) -> None:
    res = Resource("x.bin", "http://127.0.0.1:9/x.bin", "sha256:" + "0" * 64)
    with pytest.raises(DatasetError, match=r"downloading x\.bin from http://127\.0\.0\.1:9/x\.bin"):
        fetch(res, tmp_path / "c")
    assert not (tmp_path / "c" / "x.bin").exists()


def test_http_error_is_reported(server: Any, tmp_path: Path) -> None:
    res = Resource("nothere.bin", server.url("nothere.bin"), "sha256:" + "0" * 64)
    with pytest.raises(DatasetError, match="HTTP 404"):
        fetch(res, tmp_path / "c")


def test_manual_resource_tells_where_to_put_it(tmp_path: Path) -> None:
    res = Resource("Big.tar.gz", "https://example.org/page", "md5:" + "0" * 32, manual=True)
    with pytest.raises(DatasetError, match=r"no direct download: download Big\.tar\.gz from "):
        fetch(res, tmp_path)


def test_checksum_from_the_publishers_list(server: Any, tmp_path: Path) -> None:
    (server.root / "a.gz").write_bytes(b"hello")
    (server.root / "md5sums.txt").write_text(
        f"{hashlib.md5(b'other').hexdigest()}  b.gz\n{hashlib.md5(b'hello').hexdigest()}  a.gz\n"
    )
    res = Resource("a.gz", server.url("a.gz"), None, checksum_list=server.url("md5sums.txt"))
    assert fetch(res, tmp_path / "c").read_bytes() == b"hello"
    (server.root / "a.gz").write_bytes(b"tampered")
    with pytest.raises(DatasetError, match="has md5"):
        fetch(res, tmp_path / "d")
    missing = Resource("z.gz", server.url("z.gz"), None, checksum_list=server.url("md5sums.txt"))
    with pytest.raises(DatasetError, match=r"does not list z\.gz"):
        fetch(missing, tmp_path / "e")


def test_file_url_and_md5(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    res = Resource("copy.bin", src.as_uri(), "md5:" + hashlib.md5(PAYLOAD).hexdigest())
    assert fetch(res, tmp_path / "c").read_bytes() == PAYLOAD


def test_verify_rejects_malformed_checksum(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(DatasetError, match="is not '<algorithm>:<hex>'"):
        verify(tmp_path / "f", "crc32:abcd")
