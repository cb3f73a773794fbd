"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC), Cramer et al. (2020).

The publisher serves each split as gzipped HDF5 (``shd_train.h5.gz``...) with a list of MD5s
(``md5sums.txt``). A file holds ``spikes/times`` (one float array per sample, seconds),
``spikes/units`` (one integer array per sample, channel ``0..699``), ``labels`` (one int per
sample) and ``extra/keys`` (the class names). Samples are binned into ``[steps, 700]`` counts.
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
from neuropil_datasets._events import bin_events, make_events
from neuropil_datasets._extract import gunzip
from neuropil_datasets._split import Split, unknown_split

__all__ = ["HEIDELBERG_URL", "SHD", "SSC", "HeidelbergDataset", "read_heidelberg"]

#: Where the publisher (Zenke lab) serves the files and ``md5sums.txt``.
HEIDELBERG_URL = "https://zenkelab.org/datasets/"
_CHANNELS = 700
_LICENCE = "CC BY 4.0"
_CITATION = (
    "Cramer, B., Stradmann, Y., Schemmel, J. and Zenke, F. (2020). The Heidelberg Spiking Data "
    "Sets for the Systematic Evaluation of Spiking Neural Networks. IEEE Transactions on Neural "
    "Networks and Learning Systems 33(7), 2744-2757. https://doi.org/10.1109/TNNLS.2020.3044364"
)
_PAGE = "https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/"


def read_heidelberg(
    path: str | os.PathLike[str],
) -> tuple[list[npt.NDArray[Any]], list[npt.NDArray[Any]], npt.NDArray[np.int64], list[str]]:
    """Read a whole SHD/SSC HDF5 file (small files; datasets read samples lazily).

    Returns:
        Per-sample spike times (seconds) and units, the labels ``[n]`` and the class names.

    Raises:
        DatasetError: not HDF5, truncated, or without the SHD layout.
    """
    with _open_h5(Path(path)) as fh:
        times, units, labels = _columns(fh, Path(path))
        out_t = [np.asarray(t) for t in times]
        out_u = [np.asarray(u) for u in units]
        return out_t, out_u, np.asarray(labels, dtype=np.int64), _keys(fh)


def _open_h5(path: Path) -> Any:
    import h5py  # type: ignore[import-untyped]

    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DatasetError(
            f"{path} is not a readable HDF5 file ({exc}): it is truncated or corrupt; delete it "
            "(and its .gz) and run again to download it",
            path=os.fspath(path),
        ) from exc


def _columns(fh: Any, path: Path) -> tuple[Any, Any, Any]:
    missing = [k for k in ("spikes/times", "spikes/units", "labels") if k not in fh]
    if missing:
        raise DatasetError(
            f"{path} lacks {', '.join(missing)}: wrong format, it is not an SHD/SSC file; "
            "delete it and run again to download it",
            path=os.fspath(path),
        )
    times, units, labels = fh["spikes/times"], fh["spikes/units"], fh["labels"]
    if not len(times) == len(units) == len(labels):
        raise DatasetError(
            f"{path} has {len(times)} spike-time arrays, {len(units)} unit arrays and "
            f"{len(labels)} labels: wrong format or truncated; delete it and download it again",
            path=os.fspath(path),
        )
    return times, units, labels


def _keys(fh: Any) -> list[str]:
    if "extra/keys" not in fh:
        return []
    return [k.decode() if isinstance(k, bytes) else str(k) for k in fh["extra/keys"][()]]


class HeidelbergDataset:
    """Base of :class:`SHD` and :class:`SSC`: find, download, verify, unpack and bin.

    Args:
        root: Cache folder (default: ``$NEUROPIL_DATA`` or the user cache); files go to
            ``<root>/<name>/``.
        dt: Bin width in seconds.
        steps: Bins per sample (events after ``steps * dt`` are cropped).
        binary: Clip counts to 0/1.
        resources: Replace the publisher's files (``{split: Resource}``): a mirror.
    """

    name = ""
    published: ClassVar[dict[str, int]] = {}
    classes: ClassVar[tuple[str, ...]] = ()
    default_resources: ClassVar[dict[str, Resource]] = {}

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        dt: float = 1e-3,
        steps: int = 1400,
        binary: bool = False,
        resources: dict[str, Resource] | None = None,
    ) -> None:
        if dt <= 0 or steps < 1:
            raise DatasetError(f"{self.name} needs dt > 0 s and steps >= 1, got {dt}, {steps}")
        self.folder = data_home(root) / self.name
        self.resources = dict(resources or self.default_resources)
        self.dt, self.steps, self.binary = float(dt), int(steps), bool(binary)
        self._handles: dict[str, Any] = {}
        sizes = dict(self.published)
        classes = self.classes
        for split in self.resources:
            local = self._h5_path(split)
            if local.is_file():
                fh = self._handle(split)
                sizes[split] = len(_columns(fh, local)[2])
                classes = tuple(_keys(fh)) or classes
        self.info = DatasetInfo(
            name=self.name,
            shape=(_CHANNELS,),
            classes=classes,
            dt=self.dt,
            steps=self.steps,
            size=sizes,
            licence=_LICENCE,
            citation=_CITATION,
            url=_PAGE,
        )

    def _h5_path(self, split: str) -> Path:
        name = self.resources[split].filename
        return self.folder / (name[:-3] if name.endswith(".gz") else name)

    def path(self, split: str) -> Path:
        """The local HDF5 file of ``split``, downloaded, verified and unpacked if needed."""
        if split not in self.resources:
            raise unknown_split(self.name, split, list(self.resources))
        local = self._h5_path(split)
        if not local.is_file():
            archive = fetch(self.resources[split], self.folder)
            if archive != local:
                gunzip(archive, local)
        return local

    def _handle(self, split: str) -> Any:
        if split not in self._handles:
            self._handles[split] = _open_h5(self.path(split))
        return self._handles[split]

    def _sample(self, split: str, k: int) -> tuple[npt.NDArray[Any], int]:
        fh = self._handle(split)
        path = self._h5_path(split)
        times, units, labels = _columns(fh, path)
        try:
            t, u, label = np.asarray(times[k]), np.asarray(units[k]), int(labels[k])
        except (OSError, ValueError) as exc:
            raise DatasetError(
                f"{path}: sample {k} cannot be read ({exc}); the file is truncated or corrupt, "
                "delete it and run again to download it",
                path=os.fspath(path),
            ) from exc
        events = make_events(np.round(t.astype(np.float64) * 1e6), u.astype(np.int64))
        try:
            x = bin_events(events, (_CHANNELS,), dt=self.dt, steps=self.steps, binary=self.binary)
        except DatasetError as exc:
            raise DatasetError(f"{path}: sample {k}: {exc}", path=os.fspath(path)) from exc
        return x, label

    def split(self, name: str) -> Split:
        """The samples of split ``name``: ``(x [steps, 700] counts, label)``."""
        if name not in self.resources:
            raise unknown_split(self.name, name, list(self.resources))
        size = len(_columns(self._handle(name), self._h5_path(name))[2])
        return Split(size, lambda k: self._sample(name, k))


def _zenke(filename: str, md5: str | None) -> Resource:
    return Resource(
        filename=filename,
        url=HEIDELBERG_URL + filename,
        checksum=None if md5 is None else f"md5:{md5}",
        checksum_list=HEIDELBERG_URL + "md5sums.txt",
    )


class SHD(HeidelbergDataset):
    """Spiking Heidelberg Digits: spoken digits 0-9 in English and German (20 classes),
    700 cochlear channels; 8156 train / 2264 test samples of up to 1.4 s.

    ``x`` is ``[steps, 700]`` spike counts (default ``dt`` 1 ms, 1400 steps). Size and class
    names are read from the files once they are in the cache.
    """

    name = "shd"
    published: ClassVar[dict[str, int]] = {"train": 8156, "test": 2264}
    classes = (
        *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
        *("null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun"),
    )
    default_resources: ClassVar[dict[str, Resource]] = {
        "train": _zenke("shd_train.h5.gz", "d47c9825dee33347913e8ce0f2be08b0"),
        "test": _zenke("shd_test.h5.gz", "3062a80ec0c5719404d5b02e166543b1"),
    }


class SSC(HeidelbergDataset):
    """Spiking Speech Commands: 35 words of Google Speech Commands v0.02, 700 channels;
    75466 train / 9981 valid / 20382 test samples of up to 1 s.

    ``x`` is ``[steps, 700]`` spike counts (default ``dt`` 1 ms, 1000 steps). Checksums come
    from the publisher's ``md5sums.txt``.
    """

    name = "ssc"
    published: ClassVar[dict[str, int]] = {"train": 75466, "valid": 9981, "test": 20382}
    classes = (
        *("backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow"),
        *("forward", "four", "go", "happy", "house", "learn", "left", "marvin", "nine", "no"),
        *("off", "on", "one", "right", "seven", "sheila", "six", "stop", "three", "tree"),
        *("two", "up", "visual", "wow", "yes", "zero"),
    )
    default_resources: ClassVar[dict[str, Resource]] = {
        "train": _zenke("ssc_train.h5.gz", None),
        "valid": _zenke("ssc_valid.h5.gz", "555645b13e15fe270fbfe39cb763f805"),
        "test": _zenke("ssc_test.h5.gz", None),
    }

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        dt: float = 1e-3,
        steps: int = 1000,
        binary: bool = False,
        resources: dict[str, Resource] | None = None,
    ) -> None:
        super().__init__(root, dt=dt, steps=steps, binary=binary, resources=resources)
