"""The experiment runner's built-in stimulus, for experiments without a dataset.

``poisson``: every channel of an input spikes independently at each step with probability
``rate_hz * dt`` (the Bernoulli approximation of a Poisson process; rates above ``1 / dt`` are
refused). ``constant``: every channel carries ``value`` at every step (a graded input current).
Both are deterministic for a seed (numpy ``PCG64``); input ``k`` (in declaration order) draws
from ``SeedSequence([seed, k])``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil._network import Network
from neuropil._suggest import did_you_mean
from neuropil.errors import ExperimentError

__all__ = ["STIMULUS_KINDS", "make_stimulus"]

STIMULUS_KINDS: tuple[str, ...] = ("poisson", "constant")


def _per_input(network: Network, value: float | Mapping[str, float], what: str) -> dict[str, float]:
    names = [i.name for i in network.inputs]
    if not isinstance(value, Mapping):
        return dict.fromkeys(names, float(value))
    unknown = sorted(set(value) - set(names))
    if unknown:
        raise ExperimentError(
            f"stimulus.{what} names input {unknown[0]!r}, which the network does not have; "
            f"its inputs: {', '.join(names) or 'none'}",
            section="stimulus",
        )
    missing = [n for n in names if n not in value]
    if missing:
        raise ExperimentError(
            f"stimulus.{what} gives no value for input {missing[0]!r}; give one per input "
            f"({', '.join(names)}) or a single number for all",
            section="stimulus",
        )
    return {n: float(value[n]) for n in names}


def make_stimulus(
    network: Network,
    *,
    kind: str,
    steps: int,
    batch: int,
    seed: int,
    rate_hz: float | Mapping[str, float] = 10.0,
    value: float | Mapping[str, float] = 1.0,
) -> dict[str, npt.NDArray[Any]]:
    """Inputs for every input of ``network``: name to float64 ``[steps, batch, *shape]``.

    Args:
        kind: ``"poisson"`` (spikes at ``rate_hz``) or ``"constant"`` (``value`` every step).
        rate_hz: Hz, one rate for all inputs or one per input name.
        value: The constant's value, one for all inputs or one per input name.
        seed: Seed of the Poisson draws.

    Raises:
        ExperimentError: unknown kind, a rate above ``1 / dt`` or below 0, or rates / values
            naming inputs the network does not have.
    """
    if kind not in STIMULUS_KINDS:
        raise ExperimentError(
            f"stimulus.kind {kind!r} is not one of {', '.join(STIMULUS_KINDS)}"
            f"{did_you_mean(kind, STIMULUS_KINDS)}",
            section="stimulus",
        )
    out: dict[str, npt.NDArray[Any]] = {}
    if kind == "constant":
        values = _per_input(network, value, "value")
        for inp in network.inputs:
            shape = (steps, batch, *(inp.shape or (inp.size,)))
            out[inp.name] = np.full(shape, values[inp.name], dtype=np.float64)
        return out
    rates = _per_input(network, rate_hz, "rate_hz")
    for k, inp in enumerate(network.inputs):
        p = rates[inp.name] * network.dt
        if not 0.0 <= p <= 1.0:
            raise ExperimentError(
                f"stimulus.rate_hz for input {inp.name!r} is {rates[inp.name]:g} Hz; at dt "
                f"{network.dt:g} s a Poisson rate must lie in [0, {1 / network.dt:g}] Hz",
                section="stimulus",
            )
        rng = np.random.default_rng(np.random.SeedSequence([seed, k]))
        shape = (steps, batch, *(inp.shape or (inp.size,)))
        out[inp.name] = (rng.random(shape) < p).astype(np.float64)
    return out
