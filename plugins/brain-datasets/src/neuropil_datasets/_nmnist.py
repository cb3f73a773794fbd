"""N-MNIST (Orchard et al., 2015): MNIST digits recorded by an ATIS event camera in saccades.

Each sample is a binary file of 40-bit events, 5 bytes each, big-endian bit order:
``x`` (8 bits), ``y`` (8 bits), polarity (1 bit), timestamp (23 bits, microseconds). The
publisher's ``Train.zip``/``Test.zip`` hold ``<split>/<digit>/<nnnnn>.bin``; the digit folder
is the label. Samples are binned into ``[steps, 2, 34, 34]`` counts (polarity, y, x).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from neuropil.errors import DatasetError
from neuropil.protocols import DatasetInfo
from neuropil_datasets._cache import data_home
from neuropil_datasets._download import Resource, fetch
from neuropil_datasets._events import EVENT_DTYPE, bin_events
from neuropil_datasets._extract import extract
from neuropil_datasets._split import Split, unknown_split

__all__ = ["NMNIST", "NMNIST_SENSOR", "read_nmnist"]

#: The sensor: 34 x 34 pixels (the 28 x 28 digit and its saccades), 2 polarities.
NMNIST_SENSOR = (2, 34, 34)
_MENDELEY = "https://data.mendeley.com/public-files/datasets/468j46mzdv/files/"


def read_nmnist(path: str | os.PathLike[str]) -> npt.NDArray[Any]:
    """Read one N-MNIST ``.bin`` file as an event stream (:data:`~neuropil_datasets.EVENT_DTYPE`).

    Raises:
        DatasetError: the size is not a multiple of 5 bytes (truncated) or an address is
            outside the 34 x 34 sensor (not an N-MNIST file).
    """
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 5:
        raise DatasetError(
            f"{path} has {raw.size} bytes, not a multiple of the 5-byte N-MNIST event: the file "
            "is truncated or not N-MNIST; delete the extracted folder and run again",
            path=os.fspath(path),
        )
    ev = raw.reshape(-1, 5).astype(np.int64)
    out = np.empty(len(ev), dtype=EVENT_DTYPE)
    out["x"], out["y"] = ev[:, 0], ev[:, 1]
    out["p"] = ev[:, 2] >> 7
    out["t"] = ((ev[:, 2] & 0x7F) << 16) | (ev[:, 3] << 8) | ev[:, 4]
    if len(out) and (out["x"].max() >= NMNIST_SENSOR[2] or out["y"].max() >= NMNIST_SENSOR[1]):
        raise DatasetError(
            f"{path} has events at x={int(out['x'].max())}, y={int(out['y'].max())}, outside the "
            "34 x 34 N-MNIST sensor: wrong format, it is not an N-MNIST file",
            path=os.fspath(path),
        )
    return out


class NMNIST:
    """N-MNIST: 10 digit classes, 60000 train / 10000 test samples of about 300 ms.

    ``x`` is ``[steps, 2, 34, 34]`` event counts (default ``dt`` 1 ms, 300 steps: the three
    saccades; later events are cropped).

    Args:
        root: Cache folder (default ``$NEUROPIL_DATA`` or the user cache); files go to
            ``<root>/nmnist/``.
        dt: Bin width in seconds.
        steps: Bins per sample.
        binary: Clip counts to 0/1.
        resources: Replace the publisher's archives (``{split: Resource}``).
    """

    name = "nmnist"
    published: ClassVar[dict[str, int]] = {"train": 60000, "test": 10000}
    default_resources: ClassVar[dict[str, Resource]] = {
        "train": Resource(
            "nmnist_train.zip",
            _MENDELEY + "39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded",
            "md5:20959b8e626244a1b502305a9e6e2031",
        ),
        "test": Resource(
            "nmnist_test.zip",
            _MENDELEY + "05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded",
            "md5:69ca8762b2fe404d9b9bad1103e97832",
        ),
    }

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        dt: float = 1e-3,
        steps: int = 300,
        binary: bool = False,
        resources: dict[str, Resource] | None = None,
    ) -> None:
        if dt <= 0 or steps < 1:
            raise DatasetError(f"nmnist needs dt > 0 s and steps >= 1, got {dt}, {steps}")
        self.folder = data_home(root) / self.name
        self.resources = dict(resources or self.default_resources)
        self.dt, self.steps, self.binary = float(dt), int(steps), bool(binary)
        self._files: dict[str, list[tuple[Path, int]]] = {}
        sizes = dict(self.published)
        for split in self.resources:
            if (self.folder / split).is_dir():
                sizes[split] = len(self._index(split))
        self.info = DatasetInfo(
            name=self.name,
            shape=NMNIST_SENSOR,
            classes=tuple(str(d) for d in range(10)),
            dt=self.dt,
            steps=self.steps,
            size=sizes,
            licence="CC BY 4.0",
            citation=(
                "Orchard, G., Jayawant, A., Cohen, G. K. and Thakor, N. (2015). Converting Static "
                "Image Datasets to Spiking Neuromorphic Datasets Using Saccades. Frontiers in "
                "Neuroscience 9, 437. https://doi.org/10.3389/fnins.2015.00437"
            ),
            url="https://www.garrickorchard.com/datasets/n-mnist",
        )

    def path(self, split: str) -> Path:
        """The extracted folder of ``split``, downloaded, verified and unpacked if needed."""
        if split not in self.resources:
            raise unknown_split(self.name, split, list(self.resources))
        target = self.folder / split
        if not target.is_dir():
            extract(fetch(self.resources[split], self.folder), target)
        return target

    def _index(self, split: str) -> list[tuple[Path, int]]:
        if split not in self._files:
            root = self.path(split)
            files = sorted(
                (p for p in root.rglob("*.bin") if p.parent.name.isdigit()),
                key=lambda p: (int(p.parent.name), p.name),
            )
            if not files:
                raise DatasetError(
                    f"{root} holds no <digit>/<n>.bin files: the archive is not N-MNIST; "
                    f"delete {root} and the archive in {self.folder} and run again",
                    path=os.fspath(root),
                )
            self._files[split] = [(p, int(p.parent.name)) for p in files]
        return self._files[split]

    def _sample(self, split: str, k: int) -> tuple[npt.NDArray[Any], int]:
        path, label = self._index(split)[k]
        events = read_nmnist(path)
        x = bin_events(events, NMNIST_SENSOR, dt=self.dt, steps=self.steps, binary=self.binary)
        return x, label

    def split(self, name: str) -> Split:
        """The samples of ``"train"`` or ``"test"``: ``(x [steps, 2, 34, 34], label)``."""
        if name not in self.resources:
            raise unknown_split(self.name, name, list(self.resources))
        return Split(len(self._index(name)), lambda k: self._sample(name, k))
