"""A tracing :class:`neuropil.Ops` that catches steps a compiler could not trace.

:class:`TracingOps` is the reference engine's :class:`~neuropil.reference.NumpyOps` whose every
result is a :class:`TracedArray`: a numpy subclass that refuses each conversion a tracer
(``jax.jit``, ``torch.compile``) cannot follow: truth testing, ``float()`` / ``int()``,
``.item()`` and ``.tolist()``. A step that runs under ``TracingOps`` branches only on options and
Python-number parameters, as the portable-step contract requires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from neuropil.reference import NumpyOps

__all__ = ["TracedArray", "TracingError", "TracingOps"]


class TracingError(TypeError):
    """A portable step needed the concrete value of an array (a host round trip)."""


class TracedArray(np.ndarray[Any, Any]):
    """A numpy array that behaves like a traced value: its contents cannot reach Python."""

    def _refuse(self, what: str) -> NoReturn:
        raise TracingError(
            f"{what} on an array: a traced step cannot read array values on the host "
            "(Python branching on values, float(x), x.item()); use ops.where / ops.maximum "
            "and keep arrays as arrays"
        )

    def __getitem__(self, key: Any) -> Any:
        out = super().__getitem__(key)
        # Indexing one element gives a numpy scalar, whose .item() would escape the trace.
        return out if isinstance(out, np.ndarray) else np.asarray(out).view(TracedArray)

    def __bool__(self) -> bool:
        self._refuse("truth test (if/while/and/or)")

    def __float__(self) -> float:
        self._refuse("float()")

    def __int__(self) -> int:
        self._refuse("int()")

    def __index__(self) -> int:
        self._refuse("use as an index (operator.index)")

    def __complex__(self) -> complex:
        self._refuse("complex()")

    def item(self, *args: Any) -> Any:
        """Refused: a host round trip."""
        self._refuse(".item()")

    def tolist(self) -> Any:
        """Refused: a host round trip."""
        self._refuse(".tolist()")


def trace(x: Any) -> Any:
    """``x`` as a :class:`TracedArray` when it is an array; Python numbers stay as they are."""
    if isinstance(x, np.ndarray):
        return x.view(TracedArray)
    return x


def _traced(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: NumpyOps, *args: Any, **kwargs: Any) -> Any:
        return trace(np.asarray(method(self, *args, **kwargs)))

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class TracingOps(NumpyOps):
    """The reference engine's ops, returning :class:`TracedArray` results."""

    spike = _traced(NumpyOps.spike)
    exp = _traced(NumpyOps.exp)
    log = _traced(NumpyOps.log)
    abs = _traced(NumpyOps.abs)
    sqrt = _traced(NumpyOps.sqrt)
    tanh = _traced(NumpyOps.tanh)
    sigmoid = _traced(NumpyOps.sigmoid)
    where = _traced(NumpyOps.where)
    maximum = _traced(NumpyOps.maximum)
    minimum = _traced(NumpyOps.minimum)
    clip = _traced(NumpyOps.clip)
    floor = _traced(NumpyOps.floor)
    zeros_like = _traced(NumpyOps.zeros_like)
    full_like = _traced(NumpyOps.full_like)
    asarray = _traced(NumpyOps.asarray)
    sum = _traced(NumpyOps.sum)
    mean = _traced(NumpyOps.mean)
    stop_gradient = _traced(NumpyOps.stop_gradient)
    normal = _traced(NumpyOps.normal)
    uniform = _traced(NumpyOps.uniform)
