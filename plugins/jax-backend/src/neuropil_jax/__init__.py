"""neuropil_jax: simulate and train neuropil networks on JAX.

The registry imports ``neuropil_jax.plugin`` to list the backend, which imports this package:
so this module imports jax only when one of its names is first used (PEP 562), and
``neuropil plugins`` never starts jax.

Use it through the registry (``neuropil.compile(net, backend="jax")``) or directly::

    from neuropil_jax import JaxBackend
    sim = JaxBackend().compile(net, dtype="float64")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuropil_jax._engine import JaxBackend, JaxSimulator, LossFn
    from neuropil_jax._ops import JaxOps, StepKey
    from neuropil_jax._training import load_checkpoint, save_checkpoint, train

__version__ = "0.1.0"

__all__ = [
    "JaxBackend",
    "JaxOps",
    "JaxSimulator",
    "LossFn",
    "StepKey",
    "__version__",
    "load_checkpoint",
    "save_checkpoint",
    "train",
]

_LAZY = {
    "JaxBackend": "neuropil_jax._engine",
    "JaxSimulator": "neuropil_jax._engine",
    "LossFn": "neuropil_jax._engine",
    "JaxOps": "neuropil_jax._ops",
    "StepKey": "neuropil_jax._ops",
    "load_checkpoint": "neuropil_jax._training",
    "save_checkpoint": "neuropil_jax._training",
    "train": "neuropil_jax._training",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'neuropil_jax' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
