"""Atomic writes: same-folder temp files, ordinary modes, folders published whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from neuropil._atomic import current_umask, publish_dir, write_bytes, write_text


def test_current_umask_does_not_change_it() -> None:
    old = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        assert current_umask() == 0o027
    finally:
        os.umask(old)


def test_written_files_get_the_ordinary_mode_and_leave_no_temp(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "héllo")
        write_bytes(tmp_path / "b.bin", b"\x00\x01")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.txt"
    write_text(target, "old")

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_publish_dir_fills_the_reserved_folder(tmp_path: Path) -> None:
    staging = tmp_path / ".staging"
    staging.mkdir(mode=0o700)
    (staging / "f").write_text("x")
    reserved = tmp_path / "run"
    reserved.mkdir()
    old = os.umask(0o022)
    try:
        publish_dir(staging, reserved)
    finally:
        os.umask(old)
    assert (reserved / "f").read_text() == "x"
    assert not staging.exists()
    assert reserved.stat().st_mode & 0o777 == 0o755
    other = tmp_path / ".other"
    other.mkdir()
    with pytest.raises(OSError, match=r"Directory not empty|File exists"):
        publish_dir(other, reserved)  # the name is taken by a finished folder
    assert (reserved / "f").read_text() == "x"
