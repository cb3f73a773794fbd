"""Batches of dataset samples as time-major numpy arrays, the same for every backend.

A dataset's split is a sequence of ``(x, label)`` with ``x`` of shape ``[T_i, *shape]`` (time
first, lengths may differ). Training backends, the experiment runner and the datasets plugin all
batch through these two functions, so that a seed means the same batches everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil.errors import DatasetError

__all__ = ["Batch", "epoch_order", "iterate_batches", "pad_batch"]

#: ``(x [T, B, *shape], labels [B] int64, lengths [B] int64)``.
Batch = tuple[npt.NDArray[Any], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def pad_batch(
    samples: Sequence[tuple[npt.ArrayLike, int]],
    *,
    steps: int | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> Batch:
    """Stack samples of possibly different lengths into one time-major batch.

    Args:
        samples: ``(x_i, label_i)`` pairs, ``x_i`` of shape ``[T_i, *shape]`` (the same
            ``shape`` for all).
        steps: The length of the batch: longer samples are cropped, shorter ones zero-padded.
            ``None``: the longest sample's length.
        dtype: The dtype of ``x``.

    Returns:
        ``x`` of shape ``[T, B, *shape]`` (zeros after each sample's end), ``labels`` ``[B]``
        int64 and ``lengths`` ``[B]`` int64 (each sample's length after cropping).

    Raises:
        DatasetError: when ``samples`` is empty, a sample has no time axis, or the frame shapes
            differ.
    """
    if len(samples) == 0:
        raise DatasetError("cannot batch zero samples; the split or the selection is empty")
    if steps is not None and steps < 1:
        raise DatasetError(f"steps must be >= 1, got {steps}")
    xs = [np.asarray(x) for x, _ in samples]
    frame = xs[0].shape[1:]
    for i, x in enumerate(xs):
        if x.ndim < 1:
            raise DatasetError(
                f"sample {i} is a scalar; a sample must be [T, *shape] with time first"
            )
        if x.shape[1:] != frame:
            raise DatasetError(
                f"sample {i} has frames of shape {x.shape[1:]}, sample 0 has {frame}; "
                "every sample of a batch needs the same frame shape (resize or bin them alike)"
            )
    length = steps if steps is not None else max(x.shape[0] for x in xs)
    out = np.zeros((length, len(xs), *frame), dtype=dtype)
    lengths = np.empty(len(xs), dtype=np.int64)
    for b, x in enumerate(xs):
        n = min(x.shape[0], length)
        out[:n, b] = x[:n]
        lengths[b] = n
    labels = np.asarray([int(label) for _, label in samples], dtype=np.int64)
    return out, labels, lengths


def epoch_order(n: int, *, seed: int, epoch: int, shuffle: bool = True) -> npt.NDArray[np.int64]:
    """The sample order of epoch ``epoch``: ``default_rng([seed, epoch]).permutation(n)``, or
    ``arange(n)`` without shuffling. Depending only on ``(seed, epoch)``, it is the same after a
    resume as in an uninterrupted run."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([seed, epoch]).permutation(n).astype(np.int64)


def iterate_batches(
    samples: Sequence[tuple[npt.ArrayLike, int]],
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int = 0,
    epoch: int = 0,
    drop_last: bool = False,
    steps: int | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> Iterator[Batch]:
    """The batches of one epoch over ``samples``, each as :func:`pad_batch` makes it.

    Args:
        samples: ``(x_i [T_i, *shape], label_i)`` pairs (a dataset split).
        batch_size: Samples per batch (the last one may be smaller unless ``drop_last``).
        shuffle: Shuffle with :func:`epoch_order` (``seed``, ``epoch``); else keep the order.
        seed: The shuffling seed.
        epoch: The epoch, 0-based: each epoch has its own order.
        drop_last: Leave out a last batch smaller than ``batch_size``.
        steps: Crop or pad every batch to this many steps (``None``: each batch's longest).
        dtype: The dtype of ``x``.

    Yields:
        ``(x [T, B, *shape], labels [B], lengths [B])``.

    Raises:
        DatasetError: for ``batch_size < 1`` or an empty ``samples``.
    """
    if batch_size < 1:
        raise DatasetError(f"batch_size must be >= 1, got {batch_size}")
    n = len(samples)
    if n == 0:
        raise DatasetError("cannot batch zero samples; the split or the selection is empty")
    order = epoch_order(n, seed=seed, epoch=epoch, shuffle=shuffle)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        chosen = [samples[int(i)] for i in order[start : start + batch_size]]
        yield pad_batch(chosen, steps=steps, dtype=dtype)
