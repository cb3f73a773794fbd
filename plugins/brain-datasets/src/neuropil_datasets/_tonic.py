"""Any `Tonic <https://tonic.readthedocs.io>`_ dataset as a neuropil dataset.

Tonic datasets index to ``(events, target)`` with ``events`` a structured array (fields among
``t`` in microseconds, ``x``, ``y``, ``p``) and know their ``sensor_size`` ``(W, H, P)``.
:func:`from_tonic` bins the events at ``dt`` into ``[steps, *shape]`` frames, channels first:
``(P, H, W)`` with sizes of 1 dropped (so SHD's ``(700, 1, 1)`` becomes ``(700,)``).
The adapter never imports tonic: it uses only the dataset objects it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil.errors import DatasetError
from neuropil.protocols import DatasetInfo
from neuropil_datasets._events import EVENT_DTYPE, bin_events
from neuropil_datasets._split import Split, unknown_split

__all__ = ["TonicDataset", "from_tonic"]


def _frame_shape(sensor_size: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    w, h, p = (int(s) for s in sensor_size)
    full = (p, h, w)
    kept = tuple(s for s in full if s > 1) or (1,)
    return full, kept


def _as_events(raw: Any, where: str) -> npt.NDArray[Any]:
    arr = np.asarray(raw)
    names = arr.dtype.names or ()
    if "t" not in names or "x" not in names:
        raise DatasetError(
            f"{where}: tonic gave events with fields {names or arr.dtype}, expected a structured "
            "array with at least 't' and 'x'; remove transforms that turn events into frames"
        )
    out = np.zeros(arr.shape[0], dtype=EVENT_DTYPE)
    out["t"] = np.round(arr["t"]).astype(np.int64)
    out["x"] = arr["x"]
    if "y" in names:
        out["y"] = arr["y"]
    if "p" in names:
        out["p"] = np.asarray(arr["p"]).astype(np.int8)
    return out


class TonicDataset:
    """A neuropil dataset over tonic dataset objects (see :func:`from_tonic`)."""

    def __init__(
        self,
        splits: Mapping[str, Any],
        *,
        dt: float,
        steps: int,
        name: str,
        classes: Sequence[str] | None = None,
        binary: bool = False,
        licence: str = "see the dataset's publisher (via tonic)",
        citation: str = "",
        url: str = "https://tonic.readthedocs.io",
    ) -> None:
        if not splits:
            raise DatasetError("from_tonic needs at least one tonic dataset")
        if dt <= 0 or steps < 1:
            raise DatasetError(f"from_tonic needs dt > 0 s and steps >= 1, got {dt}, {steps}")
        self._splits = dict(splits)
        first = next(iter(self._splits.values()))
        sensor = getattr(first, "sensor_size", None)
        if sensor is None or len(sensor) != 3:
            raise DatasetError(
                f"tonic dataset {type(first).__name__} has sensor_size {sensor!r}, expected "
                "(width, height, polarities)"
            )
        self._full, shape = _frame_shape(sensor)
        self.binary = bool(binary)
        if classes is None:
            raw = getattr(first, "classes", None)
            if raw is None or len(raw) == 0:
                raise DatasetError(
                    f"tonic dataset {type(first).__name__} has no 'classes'; pass "
                    "classes=[...] to from_tonic"
                )
            classes = [c.decode() if isinstance(c, bytes) else str(c) for c in raw]
        if not citation:
            citation = (first.__doc__ or "").strip().splitlines()[0] if first.__doc__ else ""
            citation = citation or f"the publication of tonic's {type(first).__name__}"
        self.info = DatasetInfo(
            name=name,
            shape=shape,
            classes=tuple(classes),
            dt=float(dt),
            steps=int(steps),
            size={k: len(v) for k, v in self._splits.items()},
            licence=licence,
            citation=citation,
            url=url,
        )

    def _sample(self, split: str, k: int) -> tuple[npt.NDArray[Any], int]:
        raw, target = self._splits[split][k]
        events = _as_events(raw, f"{self.info.name} {split} sample {k}")
        # Tonic fills axes of size 1 with any value (SHD's polarity is 1): they carry nothing.
        for field_name, size in zip(("p", "y", "x"), self._full, strict=True):
            if size == 1:
                events[field_name] = 0
        x = bin_events(
            events, self._full, dt=self.info.dt, steps=self.info.steps, binary=self.binary
        )
        label = int(np.asarray(target).reshape(-1)[0])
        return x.reshape(self.info.steps, *self.info.shape), label

    def split(self, name: str) -> Split:
        """The samples of ``name``: ``(x [steps, *shape] counts, label)``."""
        if name not in self._splits:
            raise unknown_split(self.info.name, name, list(self._splits))
        return Split(len(self._splits[name]), lambda k: self._sample(name, k))


def from_tonic(
    dataset: Any,
    *,
    dt: float,
    steps: int,
    test: Any = None,
    name: str | None = None,
    classes: Sequence[str] | None = None,
    binary: bool = False,
    licence: str = "see the dataset's publisher (via tonic)",
    citation: str = "",
) -> TonicDataset:
    """Wrap tonic datasets as one neuropil dataset.

    Example::

        import tonic
        from neuropil_datasets import from_tonic

        train = tonic.datasets.NMNIST(save_to="data", train=True)
        test = tonic.datasets.NMNIST(save_to="data", train=False)
        ds = from_tonic(train, test=test, dt=1e-3, steps=300)
        x, label = ds.split("train")[0]   # x: [300, 2, 34, 34]

    Args:
        dataset: A tonic dataset (becomes split ``"train"``), or ``{split: tonic dataset}``.
        dt: Bin width in seconds.
        steps: Bins per sample (later events are cropped).
        test: A tonic dataset for split ``"test"``.
        name: The dataset's name (default: the tonic class name, lower case).
        classes: Class names (default: the tonic dataset's ``classes``).
        binary: Clip counts to 0/1.
        licence, citation: For ``info`` (tonic does not record them).

    Raises:
        DatasetError: no ``sensor_size`` or ``classes``, or events that are not structured.
    """
    splits: dict[str, Any] = dict(dataset) if isinstance(dataset, Mapping) else {"train": dataset}
    if test is not None:
        splits["test"] = test
    first = next(iter(splits.values()), None)
    return TonicDataset(
        splits,
        dt=dt,
        steps=steps,
        name=name or type(first).__name__.lower(),
        classes=classes,
        binary=binary,
        licence=licence,
        citation=citation,
    )
