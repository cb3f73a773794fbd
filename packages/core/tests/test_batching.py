"""neuropil.pad_batch / iterate_batches: the batches every backend and the runner share."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

import neuropil
from neuropil.errors import DatasetError


def samples(lengths: list[int], frame: tuple[int, ...] = (3,)) -> list[tuple[Any, int]]:
    return [(np.full((n, *frame), float(i + 1)), i % 4) for i, n in enumerate(lengths)]


def test_pads_to_the_longest_and_reports_lengths() -> None:
    x, labels, lengths = neuropil.pad_batch(samples([2, 5, 1]))
    assert x.shape == (5, 3, 3)
    assert x.dtype == np.float32
    assert labels.tolist() == [0, 1, 2]
    assert lengths.tolist() == [2, 5, 1]
    assert np.all(x[:2, 0] == 1)
    assert np.all(x[2:, 0] == 0)
    assert np.all(x[:, 1] == 2)
    assert np.all(x[1:, 2] == 0)


def test_steps_crops_and_pads() -> None:
    x, _, lengths = neuropil.pad_batch(samples([2, 5]), steps=3, dtype=np.float64)
    assert x.shape == (3, 2, 3)
    assert x.dtype == np.float64
    assert lengths.tolist() == [2, 3]
    assert np.all(x[2, 0] == 0)
    assert np.all(x[2, 1] == 2)


def test_frames_keep_their_shape() -> None:
    x, _, _ = neuropil.pad_batch(samples([4, 4], frame=(2, 8, 8)))
    assert x.shape == (4, 2, 2, 8, 8)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], "cannot batch zero samples"),
        ([(np.zeros((3, 2)), 0), (np.zeros((3, 4)), 1)], r"sample 1 has frames of shape \(4,\)"),
        ([(np.float64(1.0), 0)], "sample 0 is a scalar"),
    ],
)
def test_bad_samples_are_named(bad: list[tuple[npt.ArrayLike, int]], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        neuropil.pad_batch(bad)


def test_an_epoch_covers_every_sample_once_in_a_seeded_order() -> None:
    data = samples([1] * 10)
    batches = list(neuropil.iterate_batches(data, 4, seed=3, epoch=2))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[0][0, :, 0] for b in batches]) - 1
    order = np.random.default_rng([3, 2]).permutation(10)
    assert seen.astype(int).tolist() == order.tolist()
    assert neuropil.epoch_order(10, seed=3, epoch=2).tolist() == order.tolist()
    # Another epoch, another order; the same epoch, the same order (resuming reproduces it).
    assert neuropil.epoch_order(10, seed=3, epoch=3).tolist() != order.tolist()
    again = list(neuropil.iterate_batches(data, 4, seed=3, epoch=2))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, again, strict=True))


def test_drop_last_and_no_shuffle() -> None:
    data = samples([1] * 10)
    batches = list(neuropil.iterate_batches(data, 4, shuffle=False, drop_last=True))
    assert len(batches) == 2
    assert batches[0][0][0, :, 0].tolist() == [1, 2, 3, 4]


def test_bad_batch_size() -> None:
    with pytest.raises(DatasetError, match="batch_size must be >= 1, got 0"):
        next(neuropil.iterate_batches(samples([1]), 0))


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=12),
    st.integers(1, 5),
    st.integers(0, 10),
)
def test_batches_partition_the_samples(lengths: list[int], size: int, seed: int) -> None:
    data = samples(lengths)
    got: list[float] = []
    for x, labels, lens in neuropil.iterate_batches(data, size, seed=seed):
        assert x.shape[1] == len(labels) == len(lens) <= size
        assert x.shape[0] == lens.max()
        got += x[0, :, 0].tolist()
    assert sorted(got) == [float(i + 1) for i in range(len(lengths))]
