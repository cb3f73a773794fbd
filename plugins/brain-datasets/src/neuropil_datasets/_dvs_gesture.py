"""DVS128 Gesture (Amir et al., 2017): 11 hand and arm gestures from a 128 x 128 DVS camera.

The publisher's ``DvsGesture.tar.gz`` holds, per recording, ``userNN_<lighting>.aedat``
(AEDAT 3.1) and ``userNN_<lighting>_labels.csv`` (``class,startTime_usec,endTime_usec``, one
row per gesture, classes 1..11), plus ``trials_to_train.txt`` and ``trials_to_test.txt``
listing the recordings of each split. Every labelled gesture is one sample.

AEDAT 3.1: ASCII header lines starting with ``#``, the last ``#!END-HEADER\\r\\n``; then
packets, each a 28-byte little-endian header (``eventType`` u16, ``eventSource`` u16,
``eventSize`` u32, ``eventTSOffset`` u32, ``eventTSOverflow`` u32, ``eventCapacity`` u32,
``eventNumber`` u32, ``eventValid`` u32) and ``eventNumber`` events of ``eventSize`` bytes.
Polarity events (type 1) are 8 bytes: ``data`` u32 (bit 0 valid, bit 1 polarity, bits 2-16
``y``, bits 17-31 ``x``) and ``timestamp`` u32 (microseconds, extended by
``eventTSOverflow << 31``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from neuropil.errors import DatasetError
from neuropil.protocols import DatasetInfo
from neuropil_datasets._cache import data_home
from neuropil_datasets._download import Resource, fetch
from neuropil_datasets._events import EVENT_DTYPE, bin_events, crop_time, downsample
from neuropil_datasets._extract import extract
from neuropil_datasets._split import Split, unknown_split

__all__ = ["DVSGesture", "read_aedat", "read_gesture_labels"]

_HEADER = np.dtype(
    [
        ("type", "<u2"),
        ("source", "<u2"),
        ("size", "<u4"),
        ("ts_offset", "<u4"),
        ("ts_overflow", "<u4"),
        ("capacity", "<u4"),
        ("number", "<u4"),
        ("valid", "<u4"),
    ]
)
_POLARITY_EVENT = 1
_END_HEADER = b"#!END-HEADER"
_SENSOR = 128
_BOX = "https://ibm.ent.box.com/s/3hiq58ww1pbbjrinh367ykfdf60xsfm8/folder/50167556794"


def _bad(path: str | os.PathLike[str], what: str) -> DatasetError:
    return DatasetError(
        f"{path}: {what}; the file is truncated or not AEDAT 3.1: delete the extracted folder "
        "and run again",
        path=os.fspath(path),
    )


def read_aedat(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """Read the valid polarity events of an AEDAT 3.1 file (:data:`EVENT_DTYPE`, ``t`` in us).

    Raises:
        DatasetError: no ``#!AER-DAT3.1`` / end-of-header line, a packet cut short, or a
            polarity event size other than 8 bytes.
    """
    data = Path(path).read_bytes()
    if not data.startswith(b"#!AER-DAT3"):
        raise _bad(path, "it does not start with '#!AER-DAT3.1' (wrong format)")
    end = data.find(_END_HEADER)
    if end < 0:
        raise _bad(path, "no '#!END-HEADER' line")
    pos = data.index(b"\n", end) + 1
    chunks: list[npt.NDArray[Any]] = []
    while pos < len(data):
        if pos + _HEADER.itemsize > len(data):
            raise _bad(path, f"a packet header at byte {pos} is cut short")
        head = np.frombuffer(data, dtype=_HEADER, count=1, offset=pos)[0]
        pos += _HEADER.itemsize
        nbytes = int(head["number"]) * int(head["size"])
        if pos + nbytes > len(data):
            raise _bad(path, f"a packet at byte {pos} promises {nbytes} bytes, fewer remain")
        if int(head["type"]) == _POLARITY_EVENT:
            if int(head["size"]) != 8:
                raise _bad(path, f"polarity events of {int(head['size'])} bytes, expected 8")
            words = np.frombuffer(data, dtype="<u4", count=2 * int(head["number"]), offset=pos)
            word, ts = words[0::2].astype(np.int64), words[1::2].astype(np.int64)
            valid = (word & 1) == 1
            ev = np.empty(int(valid.sum()), dtype=EVENT_DTYPE)
            ev["x"] = (word[valid] >> 17) & 0x7FFF
            ev["y"] = (word[valid] >> 2) & 0x7FFF
            ev["p"] = (word[valid] >> 1) & 1
            ev["t"] = (int(head["ts_overflow"]) << 31) | ts[valid]
            chunks.append(ev)
        pos += nbytes
    if not chunks:
        return np.empty(0, dtype=EVENT_DTYPE)
    return np.concatenate(chunks)


def read_gesture_labels(path: str | os.PathLike[str]) -> list[tuple[int, int, int]]:
    """The gestures of a ``*_labels.csv``: ``(class 1..11, start_us, end_us)`` rows.

    Raises:
        DatasetError: missing columns or non-integer values.
    """
    rows: list[tuple[int, int, int]] = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"class", "startTime_usec", "endTime_usec"}
        if reader.fieldnames is None or not need <= {f.strip() for f in reader.fieldnames}:
            raise DatasetError(
                f"{path} lacks the columns class,startTime_usec,endTime_usec: wrong format",
                path=os.fspath(path),
            )
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): v for k, v in row.items() if k is not None}
            try:
                rows.append(
                    (int(row["class"]), int(row["startTime_usec"]), int(row["endTime_usec"]))
                )
            except (TypeError, ValueError) as exc:
                raise DatasetError(
                    f"{path}, line {line}: {row} is not three integers: wrong format",
                    path=os.fspath(path),
                ) from exc
    return rows


class DVSGesture:
    """DVS128 Gesture: 11 classes, 1176 train / 288 test gestures (29 subjects, 3 lightings).

    ``x`` is ``[steps, 2, 128 / downsample, 128 / downsample]`` event counts (default 4x
    downsampling to 32 x 32, ``dt`` 10 ms, 300 steps: the first 3 s of each gesture).

    The publisher (IBM) serves the archive from a file-sharing page with no direct link:
    download ``DvsGesture.tar.gz`` there and put it in ``<root>/dvs_gesture/``; the error
    raised when it is missing says exactly where.

    Args:
        root: Cache folder (default ``$NEUROPIL_DATA`` or the user cache).
        dt: Bin width in seconds.
        steps: Bins per sample.
        downsample: Spatial downsampling factor (1, 2, 4, 8...).
        binary: Clip counts to 0/1.
        resources: Replace the publisher's archive (``{"archive": Resource}``).
    """

    name = "dvs_gesture"
    published: ClassVar[dict[str, int]] = {"train": 1176, "test": 288}
    classes = (
        *("hand_clapping", "right_hand_wave", "left_hand_wave", "right_arm_clockwise"),
        *("right_arm_counter_clockwise", "left_arm_clockwise", "left_arm_counter_clockwise"),
        *("arm_roll", "air_drums", "air_guitar", "other_gestures"),
    )
    default_resources: ClassVar[dict[str, Resource]] = {
        "archive": Resource(
            "DvsGesture.tar.gz", _BOX, "md5:8a5c71fb11e24e5ca5b11866ca6c00a1", manual=True
        )
    }

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        dt: float = 10e-3,
        steps: int = 300,
        downsample: int = 4,
        binary: bool = False,
        resources: dict[str, Resource] | None = None,
    ) -> None:
        if dt <= 0 or steps < 1 or downsample < 1 or _SENSOR % downsample:
            raise DatasetError(
                "dvs_gesture needs dt > 0 s, steps >= 1 and a downsample factor dividing 128, "
                f"got dt={dt}, steps={steps}, downsample={downsample}"
            )
        self.folder = data_home(root) / self.name
        self.resources = dict(resources or self.default_resources)
        self.dt, self.steps, self.binary = float(dt), int(steps), bool(binary)
        self.factor = int(downsample)
        side = _SENSOR // self.factor
        self._shape = (2, side, side)
        self._index_cache: dict[str, list[tuple[Path, int, int, int]]] = {}
        self._loaded: tuple[Path, npt.NDArray[Any]] | None = None
        sizes = dict(self.published)
        if (self.folder / "extracted").is_dir():
            sizes = {s: len(self._index(s)) for s in self.published}
        self.info = DatasetInfo(
            name=self.name,
            shape=self._shape,
            classes=self.classes,
            dt=self.dt,
            steps=self.steps,
            size=sizes,
            licence="CC BY 4.0",
            citation=(
                "Amir, A. et al. (2017). A Low Power, Fully Event-Based Gesture Recognition "
                "System. Proceedings of CVPR 2017, 7243-7252. https://doi.org/10.1109/CVPR.2017.781"
            ),
            url="https://research.ibm.com/interactive/dvsgesture/",
        )

    def path(self) -> Path:
        """The folder holding ``trials_to_train.txt``, unpacked from the archive if needed."""
        target = self.folder / "extracted"
        if not target.is_dir():
            extract(fetch(self.resources["archive"], self.folder), target)
        lists = sorted(target.rglob("trials_to_train.txt"))
        if not lists:
            raise DatasetError(
                f"{target} has no trials_to_train.txt: the archive is not DVS128 Gesture; "
                f"delete {target} and the archive and fetch it again",
                path=os.fspath(target),
            )
        return lists[0].parent

    def _index(self, split: str) -> list[tuple[Path, int, int, int]]:
        if split not in self._index_cache:
            base = self.path()
            listing = base / f"trials_to_{split}.txt"
            if not listing.is_file():
                raise DatasetError(f"{listing} is missing: the archive is incomplete")
            rows: list[tuple[Path, int, int, int]] = []
            for name in listing.read_text().split():
                aedat = base / name
                labels = aedat.with_name(aedat.stem + "_labels.csv")
                if not aedat.is_file() or not labels.is_file():
                    raise DatasetError(
                        f"{listing} names {name}, but {aedat} or {labels} is missing: the "
                        "archive is incomplete; delete the extracted folder and fetch it again",
                        path=os.fspath(aedat),
                    )
                for cls, start, stop in read_gesture_labels(labels):
                    if not 1 <= cls <= len(self.classes):
                        raise DatasetError(
                            f"{labels}: class {cls} is not in 1..{len(self.classes)}",
                            path=os.fspath(labels),
                        )
                    rows.append((aedat, cls - 1, start, stop))
            self._index_cache[split] = rows
        return self._index_cache[split]

    def _events(self, path: Path) -> npt.NDArray[Any]:
        # Gestures of one recording are consecutive: keep the last file read.
        if self._loaded is None or self._loaded[0] != path:
            events = read_aedat(path)
            if len(events) and (events["x"].max() >= _SENSOR or events["y"].max() >= _SENSOR):
                raise _bad(path, "events outside the 128 x 128 sensor")
            self._loaded = (path, events)
        return self._loaded[1]

    def _sample(self, split: str, k: int) -> tuple[npt.NDArray[Any], int]:
        path, label, start, stop = self._index(split)[k]
        events = downsample(crop_time(self._events(path), start, stop), self.factor)
        x = bin_events(events, self._shape, dt=self.dt, steps=self.steps, binary=self.binary)
        return x, label

    def split(self, name: str) -> Split:
        """The gestures of ``"train"`` or ``"test"``: ``(x [steps, 2, H, W], label)``."""
        if name not in self.published:
            raise unknown_split(self.name, name, list(self.published))
        return Split(len(self._index(name)), lambda k: self._sample(name, k))
