"""The offline default: UCI handwritten digits (8 x 8), shipped with the package.

The data file is the one scikit-learn ships (1797 samples of 64 pixels in ``0..16`` and a
label), CC BY 4.0, Alpaydin & Kaynak (1998); see ``data/LICENSE-digits.txt``. Its sha256 is
checked when it is read.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil.errors import DatasetError
from neuropil.protocols import DatasetInfo
from neuropil_datasets._split import Split, unknown_split

__all__ = ["DIGITS_SHA256", "Digits", "DigitsStatic", "load_digits"]

#: sha256 of ``data/digits.csv.gz`` (scikit-learn's file, byte for byte).
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
_N_SAMPLES, _N_PIXELS = 1797, 64
_LICENCE = "CC BY 4.0 (UCI Machine Learning Repository)"
_CITATION = (
    "Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten Digits [Dataset]. "
    "UCI Machine Learning Repository. https://doi.org/10.24432/C50P49"
)
_URL = "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits"
_CLASSES = tuple(str(d) for d in range(10))


def _parse(raw: bytes, where: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    digest = hashlib.sha256(raw).hexdigest()
    if digest != DIGITS_SHA256:
        raise DatasetError(
            f"{where} has sha256 {digest}, expected {DIGITS_SHA256}: the installed package is "
            "damaged; reinstall it: pip install --force-reinstall neuropil-datasets",
            path=where,
        )
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",")
    if table.shape != (_N_SAMPLES, _N_PIXELS + 1):
        raise DatasetError(
            f"{where} holds a table of shape {table.shape}, expected "
            f"({_N_SAMPLES}, {_N_PIXELS + 1}); reinstall neuropil-datasets",
            path=where,
        )
    return table[:, :_N_PIXELS] / 16.0, table[:, _N_PIXELS].astype(np.int64)


@cache
def load_digits() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The 1797 digits: images ``[1797, 64]`` in ``[0, 1]`` (pixel / 16, row-major 8 x 8)
    and labels ``[1797]`` in ``0..9``.

    Raises:
        DatasetError: the shipped file is damaged (wrong sha256 or shape).
    """
    ref = resources.files("neuropil_datasets") / "data" / "digits.csv.gz"
    images, labels = _parse(ref.read_bytes(), str(ref))
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _split_indices(seed: int, test_fraction: float) -> dict[str, npt.NDArray[np.int64]]:
    # Stratified: each class contributes the same fraction to the test split.
    _, labels = load_digits()
    rng = np.random.default_rng(seed)
    train: list[npt.NDArray[np.int64]] = []
    test: list[npt.NDArray[np.int64]] = []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = round(test_fraction * len(idx))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return {
        "train": np.sort(np.concatenate(train)),
        "test": np.sort(np.concatenate(test)),
    }


class DigitsStatic:
    """The digits as static frames: each sample ``x`` is ``[1, 64]`` intensities in ``[0, 1]``.

    Feed it through an encoder (``[dataset] encoder = "rate"``). Splits ``train`` (80 %) and
    ``test`` (20 %), stratified by class, fixed by ``split_seed``.

    Args:
        split_seed: Seed of the train/test split.
        test_fraction: Fraction of each class in ``test``.
    """

    def __init__(self, *, split_seed: int = 0, test_fraction: float = 0.2) -> None:
        if not 0 < test_fraction < 1:
            raise DatasetError(f"test_fraction must be in (0, 1), got {test_fraction}")
        self._indices = _split_indices(split_seed, test_fraction)
        self.info = DatasetInfo(
            name="digits_static",
            shape=(_N_PIXELS,),
            classes=_CLASSES,
            dt=1e-3,
            steps=1,
            size={k: len(v) for k, v in self._indices.items()},
            licence=_LICENCE,
            citation=_CITATION,
            url=_URL,
        )

    def _frame(self, index: int) -> tuple[npt.NDArray[np.float64], int]:
        images, labels = load_digits()
        return images[index], int(labels[index])

    def _sample(self, index: int) -> tuple[npt.NDArray[Any], int]:
        frame, label = self._frame(index)
        return frame[None, :].astype(np.float32), label

    def split(self, name: str) -> Split:
        """The samples of ``"train"`` or ``"test"``: ``(x [T, 64], label)``."""
        if name not in self._indices:
            raise unknown_split(self.info.name, name, list(self._indices))
        idx = self._indices[name]
        return Split(len(idx), lambda k: self._sample(int(idx[k])))


class Digits(DigitsStatic):
    """The digits as spike trains (the offline default dataset, needs no download).

    Sample ``k`` (image ``i``) is a Bernoulli rate code of the image: pixel ``j`` spikes at
    each step with probability ``min(1, x_j * max_rate * dt)``, drawn from
    ``default_rng([seed, i])``, so a sample is the same on every read and machine.
    ``x`` is ``[steps, 64]`` of 0/1.

    Args:
        steps: Time steps per sample.
        dt: Seconds per step.
        max_rate: Rate in Hz of a full-intensity pixel.
        seed: Seed of the spike trains.
        split_seed, test_fraction: As in :class:`DigitsStatic`.
    """

    def __init__(
        self,
        *,
        steps: int = 50,
        dt: float = 1e-3,
        max_rate: float = 200.0,
        seed: int = 0,
        split_seed: int = 0,
        test_fraction: float = 0.2,
    ) -> None:
        super().__init__(split_seed=split_seed, test_fraction=test_fraction)
        if steps < 1 or dt <= 0 or max_rate <= 0:
            raise DatasetError(
                "digits needs steps >= 1, dt > 0 s and max_rate > 0 Hz, got "
                f"steps={steps}, dt={dt}, max_rate={max_rate}"
            )
        self.max_rate, self.seed = float(max_rate), int(seed)
        self.info = DatasetInfo(
            name="digits",
            shape=(_N_PIXELS,),
            classes=_CLASSES,
            dt=float(dt),
            steps=int(steps),
            size=self.info.size,
            licence=_LICENCE,
            citation=_CITATION,
            url=_URL,
        )

    def _sample(self, index: int) -> tuple[npt.NDArray[Any], int]:
        frame, label = self._frame(index)
        p = np.clip(frame * self.max_rate * self.info.dt, 0.0, 1.0)
        rng = np.random.default_rng([self.seed, index])
        spikes = (rng.random((self.info.steps, _N_PIXELS)) < p).astype(np.float32)
        return spikes, label
