"""neuropil-torch: simulate and train neuropil networks on PyTorch (CPU or CUDA).

The registry loads it as backend ``torch``::

    sim = neuropil.compile(net, backend="torch", dtype="float32")

The public names are imported on first use, so that the registry can import the plugin module
(``neuropil_torch.plugin``) without importing torch: ``import neuropil`` and ``neuropil
plugins`` never import it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuropil_torch._backend import TorchBackend, TorchSimulator
    from neuropil_torch._fast import FusedLayer
    from neuropil_torch._module import TorchNetwork
    from neuropil_torch._ops import TorchOps
    from neuropil_torch._training import train

__version__ = "0.1.0"

__all__ = [
    "FusedLayer",
    "TorchBackend",
    "TorchNetwork",
    "TorchOps",
    "TorchSimulator",
    "__version__",
    "train",
]

_WHERE = {
    "FusedLayer": "_fast",
    "TorchBackend": "_backend",
    "TorchNetwork": "_module",
    "TorchOps": "_ops",
    "TorchSimulator": "_backend",
    "train": "_training",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'neuropil_torch' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"neuropil_torch.{where}"), name)
    globals()[name] = value
    return value
