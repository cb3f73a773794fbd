"""A lazy split: a sequence of ``(x, label)`` that reads or encodes a sample when indexed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import numpy.typing as npt

__all__ = ["Split", "unknown_split"]

Sample = tuple[npt.NDArray[Any], int]


class Split(Sequence[Sample]):
    """``len(split)`` samples, sample ``k`` made by ``load(k)`` on access (nothing cached).

    Indexing takes ints (negative ones count from the end) and slices (a list).
    """

    def __init__(self, size: int, load: Callable[[int], Sample]) -> None:
        self._size = int(size)
        self._load = load

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> list[Sample]: ...

    def __getitem__(self, index: int | slice) -> Sample | list[Sample]:
        if isinstance(index, slice):
            return [self._load(k) for k in range(*index.indices(self._size))]
        k = int(index)
        if k < 0:
            k += self._size
        if not 0 <= k < self._size:
            raise IndexError(f"sample {index} out of range for a split of {self._size}")
        return self._load(k)

    def __iter__(self) -> Iterator[Sample]:
        for k in range(self._size):
            yield self._load(k)


def unknown_split(dataset: str, name: str, known: Sequence[str]) -> KeyError:
    """The error for a split name the dataset does not have."""
    return KeyError(f"dataset {dataset!r} has no split {name!r}; splits: {', '.join(known)}")
