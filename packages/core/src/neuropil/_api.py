"""Convenience entry points: compile or simulate a network on a backend chosen by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy.typing as npt

from neuropil._registry import Registry, get_registry

if TYPE_CHECKING:
    from neuropil._network import Network
    from neuropil.protocols import SimulationResult, Simulator

__all__ = ["compile", "simulate"]


def compile(  # mirrors the backend verb users know
    network: Network,
    backend: str = "numpy",
    *,
    dtype: str = "float64",
    device: str | None = None,
    seed: int = 0,
    registry: Registry | None = None,
) -> Simulator:
    """Compile ``network`` on the backend registered as ``backend``.

    Args:
        network: The network (validated by the backend before compiling).
        backend: Registry name of the backend (``"numpy"``, ``"torch"``, ``"jax"``).
        dtype: ``"float32"`` or ``"float64"``.
        device: Backend device string (``"cuda:0"``), or ``None`` for the default.
        seed: Seed of any randomness the simulation uses.
        registry: The registry to look the backend up in; the process-wide one by default.
    """
    reg = registry if registry is not None else get_registry()
    engine = reg.create("backend", backend)
    return engine.compile(network, dtype=dtype, device=device, seed=seed)  # type: ignore[no-any-return]


def simulate(
    network: Network,
    inputs: Mapping[str, npt.ArrayLike] | None = None,
    *,
    steps: int | None = None,
    backend: str = "numpy",
    dtype: str = "float64",
    seed: int = 0,
    registry: Registry | None = None,
) -> SimulationResult:
    """Compile ``network`` on ``backend`` and run it on ``inputs`` (``[T, B, *shape]`` each).

    Returns:
        The recordings of the network's probes, as numpy arrays ``[T, B, n]``.
    """
    sim = compile(network, backend, dtype=dtype, seed=seed, registry=registry)
    return sim.run(inputs or {}, steps=steps)
