"""Standard, seeded stimuli for the conformance checks (and for plugin authors' own tests).

Every function returns a float64 numpy array ``[T, B, *shape]`` (time, batch, then the input's
shape), deterministic for a given ``seed`` (numpy ``PCG64``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil import Network

__all__ = ["constant", "network_inputs", "poisson"]


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)


def poisson(
    shape: int | Sequence[int],
    *,
    steps: int,
    batch: int = 1,
    rate_hz: float = 100.0,
    dt: float = 1e-3,
    seed: int = 0,
) -> npt.NDArray[np.float64]:
    """Bernoulli approximation of Poisson spike trains.

    Each channel, batch entry and step spikes (value ``1.0``) independently with probability
    ``min(1, rate_hz * dt)``.

    Args:
        shape: Channels (an int) or the input's shape.
        steps: ``T``, time steps.
        batch: ``B``.
        rate_hz: Firing rate of every channel, in Hz.
        dt: Time step in seconds.
        seed: Seed of the generator.

    Returns:
        ``[T, B, *shape]`` of 0.0 / 1.0.
    """
    rng = np.random.default_rng(np.random.PCG64(seed))
    p = min(1.0, max(0.0, rate_hz * dt))
    full = (int(steps), int(batch), *_shape(shape))
    return (rng.random(full) < p).astype(np.float64)


def constant(
    shape: int | Sequence[int], *, steps: int, batch: int = 1, value: float = 1.0
) -> npt.NDArray[np.float64]:
    """``value`` on every channel at every step: ``[T, B, *shape]``."""
    return np.full((int(steps), int(batch), *_shape(shape)), float(value), dtype=np.float64)


def network_inputs(
    network: Network,
    *,
    steps: int,
    batch: int = 1,
    rate_hz: float | Mapping[str, float] = 100.0,
    seed: int = 0,
) -> dict[str, npt.NDArray[Any]]:
    """Poisson spikes for every input of ``network``, at the network's ``dt``.

    Args:
        rate_hz: One rate for every input, or a rate per input name.
        seed: Input ``k`` (in declaration order) uses ``seed + k``.

    Returns:
        Input name to ``[T, B, *shape]``.
    """
    out: dict[str, npt.NDArray[Any]] = {}
    for k, inp in enumerate(network.inputs):
        rate = rate_hz if isinstance(rate_hz, int | float) else rate_hz[inp.name]
        out[inp.name] = poisson(
            inp.shape or inp.size,
            steps=steps,
            batch=batch,
            rate_hz=float(rate),
            dt=network.dt,
            seed=seed + k,
        )
    return out
