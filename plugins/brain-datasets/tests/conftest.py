"""Writers of tiny files in the publishers' exact formats, a local HTTP server with Range
support, and a cache folder populated with every dataset (for the testkit suite)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import struct
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py  # type: ignore[import-untyped]
import numpy as np
import pytest


class Formats:
    """Writers of SHD/SSC HDF5, N-MNIST .bin and AEDAT 3.1 files, and of archives."""

    @staticmethod
    def heidelberg(
        path: Path,
        times: list[list[float]],
        units: list[list[int]],
        labels: list[int],
        keys: list[str] | None = None,
    ) -> Path:
        """An SHD/SSC file: spikes/times (vlen float, s), spikes/units (vlen uint16), labels."""
        with h5py.File(path, "w") as fh:
            t = fh.create_dataset("spikes/times", (len(times),), dtype=h5py.vlen_dtype(np.float32))
            u = fh.create_dataset("spikes/units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
            for i, (ti, ui) in enumerate(zip(times, units, strict=True)):
                t[i] = np.asarray(ti, dtype=np.float32)
                u[i] = np.asarray(ui, dtype=np.uint16)
            fh.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
            fh.create_dataset("extra/speaker", data=np.zeros(len(labels), dtype=np.uint16))
            if keys is not None:
                fh.create_dataset("extra/keys", data=np.asarray([k.encode() for k in keys]))
        return path

    @staticmethod
    def nmnist_bytes(events: list[tuple[int, int, int, int]]) -> bytes:
        """40-bit N-MNIST events from ``(x, y, p, t_us)``."""
        out = bytearray()
        for x, y, p, t in events:
            out += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
        return bytes(out)

    @staticmethod
    def aedat_bytes(
        packets: list[list[tuple[int, int, int, int]]], *, overflow: int = 0, valid: bool = True
    ) -> bytes:
        """AEDAT 3.1 with one polarity packet per list of ``(x, y, p, t_us)``."""
        out = bytearray(b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n")
        for events in packets:
            n = len(events)
            out += struct.pack("<HHIIIIII", 1, 1, 8, 4, overflow, n, n, n)
            for x, y, p, t in events:
                out += struct.pack("<II", (x << 17) | (y << 2) | (p << 1) | int(valid), t)
        return bytes(out)

    @staticmethod
    def gz(path: Path, data: bytes) -> Path:
        path.write_bytes(gzip.compress(data, mtime=0))
        return path

    @staticmethod
    def zip(path: Path, members: dict[str, bytes]) -> Path:
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return path

    @staticmethod
    def tar_gz(path: Path, members: dict[str, bytes]) -> Path:
        with tarfile.open(path, "w:gz") as tf:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        return path

    @staticmethod
    def sha256(path: Path) -> str:
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()

    @staticmethod
    def md5(path: Path) -> str:
        return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def formats() -> type[Formats]:
    return Formats


class Server:
    """A local HTTP server of one folder; honours ``Range`` unless ``ignore_range``; records
    every request's path and Range header; ``cut_after`` stops a body after N bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, str | None]] = []
        self.ignore_range = False
        self.cut_after: int | None = None
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                """Keep the per-request log lines off the test output."""

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                path = server.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404, "not found")
                    return
                data = path.read_bytes()
                start = 0
                if rng and not server.ignore_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_error(416, "range not satisfiable")
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    body = body[: server.cut_after]
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()
    srv = Server(root)
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's cache or the network by accident."""
    monkeypatch.setenv("NEUROPIL_DATA", os.fspath(tmp_path / "cache"))
    monkeypatch.delenv("NEUROPIL_OFFLINE", raising=False)


def populate_cache(root: Path) -> Path:
    """Every dataset's files, tiny, as they are after download and unpacking."""
    f = Formats
    (root / "shd").mkdir(parents=True)
    for split, n in (("train", 3), ("test", 2)):
        f.heidelberg(
            root / "shd" / f"shd_{split}.h5",
            [[0.0005 * (k + 1), 0.01, 0.0125] for k in range(n)],
            [[k, 699, 3] for k in range(n)],
            [k % 20 for k in range(n)],
            keys=[f"w{i}" for i in range(20)],
        )
    (root / "ssc").mkdir()
    for split in ("train", "valid", "test"):
        f.heidelberg(
            root / "ssc" / f"ssc_{split}.h5",
            [[0.001, 0.5], [0.2]],
            [[5, 6], [7]],
            [0, 34],
        )
    for split in ("train", "test"):
        for digit in (0, 7):
            folder = root / "nmnist" / split / split.title() / str(digit)
            folder.mkdir(parents=True)
            (folder / "00001.bin").write_bytes(
                f.nmnist_bytes([(1, 2, 1, 10), (33, 33, 0, 299_999), (5, 5, 0, 310_000)])
            )
    base = root / "dvs_gesture" / "extracted" / "DvsGesture"
    base.mkdir(parents=True)
    for split, user in (("train", "user01_led"), ("test", "user24_led")):
        (base / f"{user}.aedat").write_bytes(
            f.aedat_bytes([[(0, 0, 1, 100), (127, 127, 0, 20_000)], [(64, 32, 1, 2_500_000)]])
        )
        (base / f"{user}_labels.csv").write_text(
            "class,startTime_usec,endTime_usec\n1,0,1000000\n11,1000000,3000000\n"
        )
        (base / f"trials_to_{split}.txt").write_text(f"{user}.aedat\n")
    return root


@pytest.fixture(scope="session")
def populated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return populate_cache(tmp_path_factory.mktemp("neuropil-data"))
