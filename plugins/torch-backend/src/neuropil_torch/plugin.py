"""The neuropil plugin module of ``neuropil-torch``: hook implementations only.

It imports neither torch nor any other heavy dependency: the registry imports the backend's
module (``neuropil_torch._backend``) the first time backend ``torch`` is used.
"""

from __future__ import annotations

from neuropil import Component, hookimpl

__all__ = ["NEUROPIL_PLUGIN_API", "neuropil_backends"]

NEUROPIL_PLUGIN_API = (1, 0)


@hookimpl
def neuropil_backends() -> list[Component]:
    """Backend ``torch``: simulate and train networks with PyTorch (CPU or CUDA)."""
    return [
        Component(
            "torch",
            "neuropil_torch._backend:TorchBackend",
            "PyTorch: simulate and train with surrogate gradients, CPU or CUDA, fused fast path",
        )
    ]
