"""The reference engine: backend ``numpy``, plain numpy, the ground truth.

It is slow and simple on purpose: every other backend, and the conformance suite, is held to it.
"""

from __future__ import annotations

from neuropil.reference._engine import NumpyBackend, NumpySimulator
from neuropil.reference._ops import NumpyOps

__all__ = ["NumpyBackend", "NumpyOps", "NumpySimulator"]
