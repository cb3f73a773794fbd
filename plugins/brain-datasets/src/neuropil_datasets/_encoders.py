"""Encoders: ordinary data (intensities in ``[0, 1]``) to spikes or currents ``[steps, ...]``.

Every encoder follows :class:`neuropil.protocols.Encoder`: ``encode(x, *, steps, dt, rng)``
takes ``x`` of shape ``[*shape]`` or ``[B, *shape]`` and returns ``[steps, *x.shape]``
(:class:`PopulationEncoder` adds a last axis of ``n`` neurons). Randomness is drawn only from
``rng``, so one seed gives one spike train.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil.errors import DatasetError

__all__ = [
    "CurrentEncoder",
    "DeltaEncoder",
    "LatencyEncoder",
    "PoissonEncoder",
    "PopulationEncoder",
    "RateEncoder",
]


def _intensities(x: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise DatasetError(f"encoder {name!r} got NaN or infinite values; clean the data first")
    return arr


def _check_steps(steps: int, dt: float, name: str) -> None:
    if steps < 1 or dt <= 0:
        raise DatasetError(
            f"encoder {name!r} needs steps >= 1 and dt > 0 seconds, got steps={steps}, dt={dt}"
        )


class RateEncoder:
    """Bernoulli rate code: each step, neuron ``i`` spikes with probability ``p_i``.

    ``p = clip(x, 0, 1) * max_rate * dt`` (clipped to 1): an intensity of 1 fires at
    ``max_rate`` Hz on average. Output 0/1 ``float32`` ``[steps, *x.shape]``.

    Args:
        max_rate: Rate in Hz of an intensity of 1.
    """

    name = "rate"

    def __init__(self, max_rate: float = 200.0) -> None:
        if max_rate <= 0:
            raise DatasetError(f"rate encoder max_rate must be > 0 Hz, got {max_rate}")
        self.max_rate = float(max_rate)

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        """Spikes ``[steps, *x.shape]`` (0/1)."""
        _check_steps(steps, dt, self.name)
        p = np.clip(np.clip(_intensities(x, self.name), 0.0, 1.0) * self.max_rate * dt, 0.0, 1.0)
        draws = rng.random((steps, *p.shape))
        return (draws < p).astype(np.float32)


class PoissonEncoder:
    """Poisson rate code: the number of spikes in each step is Poisson distributed.

    ``count ~ Poisson(clip(x, 0, 1) * max_rate * dt)``: unlike :class:`RateEncoder` a step can
    hold more than one spike (counts as ``float32``), so the mean rate is exactly
    ``x * max_rate`` even when ``max_rate * dt`` approaches 1.

    Args:
        max_rate: Rate in Hz of an intensity of 1.
    """

    name = "poisson"

    def __init__(self, max_rate: float = 200.0) -> None:
        if max_rate <= 0:
            raise DatasetError(f"poisson encoder max_rate must be > 0 Hz, got {max_rate}")
        self.max_rate = float(max_rate)

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        """Spike counts ``[steps, *x.shape]``."""
        _check_steps(steps, dt, self.name)
        lam = np.clip(_intensities(x, self.name), 0.0, 1.0) * self.max_rate * dt
        return rng.poisson(np.broadcast_to(lam, (steps, *lam.shape))).astype(np.float32)


class LatencyEncoder:
    """Time-to-first-spike code: one spike per neuron, earlier for a larger intensity.

    With ``x`` clipped to ``[0, 1]`` and ``x <= threshold`` giving no spike:

    * ``"linear"``: spike at step ``round((1 - x) * (steps - 1))``;
    * ``"log"``: spike at time ``tau * ln(x / (x - threshold))`` seconds (the membrane of an
      RC circuit charged by ``x`` crossing ``threshold``), i.e. step ``floor(t / dt)``,
      no spike if that is ``>= steps``.

    Deterministic (``rng`` unused). Output 0/1 ``float32`` ``[steps, *x.shape]``.

    Args:
        method: ``"linear"`` or ``"log"``.
        tau: Time constant of ``"log"`` in seconds.
        threshold: Intensities at or below it never spike.
    """

    name = "latency"

    def __init__(self, method: str = "linear", tau: float = 5e-3, threshold: float = 0.01) -> None:
        if method not in ("linear", "log"):
            raise DatasetError(f"latency method must be 'linear' or 'log', got {method!r}")
        if tau <= 0 or not 0 <= threshold < 1:
            raise DatasetError(
                f"latency encoder needs tau > 0 s and 0 <= threshold < 1, got tau={tau}, "
                f"threshold={threshold}"
            )
        self.method, self.tau, self.threshold = method, float(tau), float(threshold)

    def spike_steps(self, x: npt.ArrayLike, *, steps: int, dt: float) -> npt.NDArray[np.int64]:
        """The step of each neuron's spike, ``-1`` for none; shape of ``x``."""
        _check_steps(steps, dt, self.name)
        v = np.clip(_intensities(x, self.name), 0.0, 1.0)
        fires = v > self.threshold
        if self.method == "linear":
            at = np.round((1.0 - v) * (steps - 1)).astype(np.int64)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                t = self.tau * np.log(np.where(fires, v / (v - self.threshold), 1.0))
            at = np.floor(t / dt + 1e-9).astype(np.int64)
            fires &= at < steps
        return np.where(fires, at, -1)

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        """Spikes ``[steps, *x.shape]``: at most one per neuron."""
        at = self.spike_steps(x, steps=steps, dt=dt)
        out = np.zeros((steps, *at.shape), dtype=np.float32)
        idx = np.nonzero(at >= 0)
        out[(at[idx], *idx)] = 1.0
        return out


class DeltaEncoder:
    """Delta (threshold-crossing) code: a spike where the signal changed by ``threshold``.

    :meth:`encode_series` turns a signal ``[T, ...]`` into spikes: a step spikes ``+1`` when
    ``x[t] - x[t-1] >= threshold`` and, with ``off_spikes``, ``-1`` when it fell by as much
    (``x[-1]`` is taken as 0, so the onset counts). :meth:`encode` (the encoder protocol)
    sees a static input as a signal that steps from 0 to ``x`` at step 0 and stays: one
    onset spike where ``x >= threshold``, and nothing after.

    Args:
        threshold: The change that makes a spike.
        off_spikes: Emit ``-1`` for decreases.
    """

    name = "delta"

    def __init__(self, threshold: float = 0.1, off_spikes: bool = False) -> None:
        if threshold <= 0:
            raise DatasetError(f"delta encoder threshold must be > 0, got {threshold}")
        self.threshold, self.off_spikes = float(threshold), bool(off_spikes)

    def encode_series(self, series: npt.ArrayLike) -> npt.NDArray[Any]:
        """Spikes ``[T, ...]`` of a signal ``[T, ...]`` (``+1``, and ``-1`` with off spikes)."""
        s = _intensities(series, self.name)
        if s.ndim < 1:
            raise DatasetError("delta encode_series needs a signal [T, ...] with time first")
        diff = np.diff(s, axis=0, prepend=np.zeros_like(s[:1]))
        out = (diff >= self.threshold).astype(np.float32)
        if self.off_spikes:
            out -= (diff <= -self.threshold).astype(np.float32)
        return out

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        """Onset spikes ``[steps, *x.shape]`` of the static input ``x``."""
        _check_steps(steps, dt, self.name)
        v = _intensities(x, self.name)
        return self.encode_series(np.broadcast_to(v, (steps, *v.shape)))


class CurrentEncoder:
    """Direct (current) code: ``x * gain`` fed unchanged at every step.

    The first layer integrates the analogue values (as in direct-input SNNs). Output
    ``float32`` ``[steps, *x.shape]``; deterministic.

    Args:
        gain: Scale of the current.
    """

    name = "current"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = float(gain)

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        """Currents ``[steps, *x.shape]``."""
        _check_steps(steps, dt, self.name)
        v = _intensities(x, self.name) * self.gain
        return np.broadcast_to(v, (steps, *v.shape)).astype(np.float32)


class PopulationEncoder:
    """Gaussian population code: each value drives ``n`` neurons with Gaussian tuning curves.

    Neuron ``j`` prefers ``c_j = low + j (high - low) / (n - 1)`` and fires at rate
    ``max_rate * exp(-(x - c_j)^2 / (2 sigma^2))`` Hz, ``sigma = width * (high - low) / (n - 1)``
    (Bernoulli per step, ``p = rate * dt`` clipped to 1). The output has one more axis than
    ``x``: ``[steps, *x.shape, n]``; flatten the last two axes to feed a population.

    Args:
        n: Neurons per value.
        low, high: The range of values the centres cover.
        width: Tuning width in units of the spacing between centres.
        max_rate: Rate in Hz at a neuron's preferred value.
    """

    name = "population"

    def __init__(
        self,
        n: int = 8,
        low: float = 0.0,
        high: float = 1.0,
        width: float = 1.0,
        max_rate: float = 200.0,
    ) -> None:
        if n < 2 or not high > low or width <= 0 or max_rate <= 0:
            raise DatasetError(
                "population encoder needs n >= 2, high > low, width > 0 and max_rate > 0, got "
                f"n={n}, low={low}, high={high}, width={width}, max_rate={max_rate}"
            )
        self.n, self.low, self.high = int(n), float(low), float(high)
        self.width, self.max_rate = float(width), float(max_rate)

    @property
    def centres(self) -> npt.NDArray[np.float64]:
        """The preferred values ``[n]``."""
        return np.linspace(self.low, self.high, self.n)

    def rates(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Firing rates in Hz ``[*x.shape, n]``."""
        v = _intensities(x, self.name)[..., None]
        sigma = self.width * (self.high - self.low) / (self.n - 1)
        return self.max_rate * np.exp(-((v - self.centres) ** 2) / (2.0 * sigma**2))

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """``(*shape, n)``: one more axis than the input (see
        :func:`neuropil.protocols.encoded_shape`)."""
        return (*shape, self.n)

    def encode(
        self, x: npt.ArrayLike, *, steps: int, dt: float, rng: np.random.Generator
    ) -> npt.NDArray[Any]:
        """Spikes ``[steps, *x.shape, n]`` (0/1)."""
        _check_steps(steps, dt, self.name)
        p = np.clip(self.rates(x) * dt, 0.0, 1.0)
        return (rng.random((steps, *p.shape)) < p).astype(np.float32)
