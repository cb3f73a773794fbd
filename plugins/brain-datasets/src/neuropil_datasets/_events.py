"""Event streams (address-event representation) and the transforms that make them tensors.

An event stream is a structured numpy array of dtype :data:`EVENT_DTYPE`: ``t`` (timestamp in
microseconds, int64), ``x`` and ``y`` (pixel or channel address, int16) and ``p`` (polarity 0
or 1, int8). Audio streams (SHD, SSC) use ``x`` for the channel and leave ``y = p = 0``.

Frame shapes are channels-first: ``(channels,)`` for audio, ``(polarities, height, width)``
for cameras (the layout of ``conv2d`` projections).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil.errors import DatasetError

__all__ = [
    "EVENT_DTYPE",
    "bin_events",
    "crop_time",
    "downsample",
    "make_events",
    "time_jitter",
]

#: The structured dtype of event streams: ``t`` in microseconds, ``x``, ``y``, ``p``.
EVENT_DTYPE = np.dtype([("t", np.int64), ("x", np.int16), ("y", np.int16), ("p", np.int8)])


def make_events(
    t: npt.ArrayLike,
    x: npt.ArrayLike,
    y: npt.ArrayLike = 0,
    p: npt.ArrayLike = 0,
) -> npt.NDArray[Any]:
    """An event stream from its columns (``t`` in microseconds; scalars broadcast)."""
    t_arr = np.asarray(t, dtype=np.int64).reshape(-1)
    out = np.empty(t_arr.shape[0], dtype=EVENT_DTYPE)
    out["t"] = t_arr
    out["x"] = np.broadcast_to(np.asarray(x, dtype=np.int16), t_arr.shape)
    out["y"] = np.broadcast_to(np.asarray(y, dtype=np.int16), t_arr.shape)
    out["p"] = np.broadcast_to(np.asarray(p, dtype=np.int8), t_arr.shape)
    return out


def bin_events(
    events: npt.NDArray[Any],
    shape: Sequence[int],
    *,
    dt: float,
    steps: int,
    t0: int = 0,
    binary: bool = False,
    dtype: npt.DTypeLike = np.float32,
) -> npt.NDArray[Any]:
    """Count events per time bin and address: a dense tensor ``[steps, *shape]``.

    Event ``e`` lands in bin ``floor((e.t - t0) / (dt * 1e6))``; events before ``t0`` or in
    bins ``>= steps`` are dropped (cropped).

    Args:
        events: Stream of dtype :data:`EVENT_DTYPE`.
        shape: ``(channels,)`` (address ``x``) or ``(polarities, height, width)`` (addresses
            ``p``, ``y``, ``x``).
        dt: Bin width in seconds.
        steps: Number of bins ``T``.
        t0: Timestamp (microseconds) of the start of bin 0.
        binary: Clip counts to 1 (spike or not) instead of counting events.
        dtype: The output dtype.

    Returns:
        ``[steps, *shape]`` event counts (or 0/1 with ``binary``).

    Raises:
        DatasetError: an address outside ``shape``, or ``dt``/``steps`` not positive.
    """
    if dt <= 0 or steps < 1:
        raise DatasetError(f"bin_events needs dt > 0 and steps >= 1, got dt={dt}, steps={steps}")
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (1, 3):
        raise DatasetError(
            f"bin_events shape {shape} must be (channels,) or (polarities, height, width)"
        )
    out = np.zeros((steps, *shape), dtype=dtype)
    if len(events) == 0:
        return out
    # Integer microseconds keep binning exact (no float rounding at bin edges).
    width_us = dt * 1e6
    rel = events["t"].astype(np.int64) - int(t0)
    bins = np.floor(rel / width_us).astype(np.int64)
    keep = (rel >= 0) & (bins < steps)
    addresses: list[npt.NDArray[Any]]
    if len(shape) == 1:
        addresses = [events["x"].astype(np.int64)]
    else:
        addresses = [
            events["p"].astype(np.int64),
            events["y"].astype(np.int64),
            events["x"].astype(np.int64),
        ]
    for axis, (addr, size) in enumerate(zip(addresses, shape, strict=True)):
        bad = (addr < 0) | (addr >= size)
        if bad.any():
            name = ("x",) if len(shape) == 1 else ("p", "y", "x")
            raise DatasetError(
                f"event address {name[axis]}={int(addr[bad][0])} is outside the frame shape "
                f"{shape}; pass the sensor's shape (or downsample first)"
            )
    np.add.at(out, (bins[keep], *(a[keep] for a in addresses)), 1)
    if binary:
        np.minimum(out, 1, out=out)
    return out


def downsample(events: npt.NDArray[Any], factor: int) -> npt.NDArray[Any]:
    """Spatial downsampling: addresses ``x`` and ``y`` divided by ``factor`` (floor).

    A 128 x 128 sensor with ``factor=4`` becomes 32 x 32; events of one block merge.
    """
    if factor < 1:
        raise DatasetError(f"downsample factor must be >= 1, got {factor}")
    out = events.copy()
    out["x"] //= factor
    out["y"] //= factor
    return out


def time_jitter(
    events: npt.NDArray[Any],
    std_us: float,
    rng: np.random.Generator,
    *,
    clip_negative: bool = True,
) -> npt.NDArray[Any]:
    """Add Gaussian noise of standard deviation ``std_us`` microseconds to every timestamp.

    The result is sorted by time again; with ``clip_negative`` timestamps stay ``>= 0``.
    Randomness comes only from ``rng``.
    """
    out = events.copy()
    noise = rng.normal(0.0, std_us, size=len(out))
    out["t"] = np.round(out["t"] + noise).astype(np.int64)
    if clip_negative:
        np.maximum(out["t"], 0, out=out["t"])
    return out[np.argsort(out["t"], kind="stable")]


def crop_time(
    events: npt.NDArray[Any], start_us: int, stop_us: int, *, shift: bool = True
) -> npt.NDArray[Any]:
    """The events with ``start_us <= t < stop_us``; with ``shift`` their times start at 0."""
    t = events["t"]
    out = events[(t >= start_us) & (t < stop_us)].copy()
    if shift:
        out["t"] -= start_us
    return out
