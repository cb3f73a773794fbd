"""The plugin's hook implementations: light, never imports jax (the registry loads lazily)."""

from __future__ import annotations

from neuropil import Component, hookimpl

NEUROPIL_PLUGIN_API = (1, 0)


@hookimpl
def neuropil_backends() -> list[Component]:
    """The ``jax`` backend."""
    return [
        Component(
            "jax",
            "neuropil_jax._engine:JaxBackend",
            "JAX: jit + lax.scan, surrogate-gradient training with optax, sharded data parallel",
        )
    ]
