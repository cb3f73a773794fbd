"""The numpy :class:`~neuropil.Ops` of the reference engine.

Every result is an array of the engine's dtype (``float32`` or ``float64``). Arguments are cast to
that dtype *before* computing, so that Python floats and float64 parameters never upcast float32
state and a float32 run computes in float32, as a float32 run on any other backend does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from neuropil._ops import Array, SurrogateFn
from neuropil.errors import EngineError

__all__ = ["NumpyOps"]

_SUPPORTED = (np.dtype(np.float32), np.dtype(np.float64))


class NumpyOps:
    """The ``ops`` of the reference engine: numpy, in one floating dtype.

    Args:
        dtype: ``float32`` or ``float64`` (a numpy dtype, type or name).

    Attributes:
        xp: The ``numpy`` module.
        dtype: The numpy dtype of every array this object returns.

    Example::

        ops = NumpyOps("float32")
        ops.exp(-1e-3 / 20e-3)          # float32 0-d array
        ops.spike(v - 1.0, surrogate)   # [B, N] float32 of 0.0 / 1.0
    """

    xp: Any = np

    def __init__(self, dtype: npt.DTypeLike = np.float64) -> None:
        try:
            resolved = np.dtype(dtype)
        except TypeError as exc:
            raise EngineError(
                f"NumpyOps: {dtype!r} is not a numpy dtype; pass 'float32' or 'float64'"
            ) from exc
        if resolved not in _SUPPORTED:
            raise EngineError(
                f"NumpyOps computes in float32 or float64, got {resolved.name}; "
                "pass dtype='float32' or dtype='float64'"
            )
        self.dtype: np.dtype[Any] = resolved

    def __repr__(self) -> str:
        return f"NumpyOps({self.dtype.name!r})"

    def _a(self, x: Any) -> npt.NDArray[Any]:
        return np.asarray(x, dtype=self.dtype)

    def spike(self, x: Array, surrogate: SurrogateFn | None) -> Array:
        """``1.0`` where ``x > 0`` else ``0.0`` (strict). numpy has no gradient to replace."""
        return (self._a(x) > 0).astype(self.dtype)

    def exp(self, x: Array) -> Array:
        """``e ** x``."""
        return np.exp(self._a(x))

    def log(self, x: Array) -> Array:
        """Natural logarithm."""
        return np.log(self._a(x))

    def abs(self, x: Array) -> Array:
        """Absolute value."""
        return np.abs(self._a(x))

    def sqrt(self, x: Array) -> Array:
        """Square root."""
        return np.sqrt(self._a(x))

    def tanh(self, x: Array) -> Array:
        """Hyperbolic tangent."""
        return np.tanh(self._a(x))

    def sigmoid(self, x: Array) -> Array:
        """Logistic function ``1 / (1 + e ** -x)``, without overflow for large ``|x|``."""
        a = self._a(x)
        # e ** -|x| never overflows; the two branches are the same function.
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(self.dtype, copy=False)

    def where(self, cond: Array, a: Array | float, b: Array | float) -> Array:
        """``a`` where ``cond`` is true, else ``b``."""
        return np.where(np.asarray(cond, dtype=bool), self._a(a), self._a(b))

    def maximum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise maximum."""
        return np.maximum(self._a(a), self._a(b))

    def minimum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise minimum."""
        return np.minimum(self._a(a), self._a(b))

    def clip(self, x: Array, low: Array | float | None, high: Array | float | None) -> Array:
        """``x`` limited to ``[low, high]`` (``None``: no limit on that side)."""
        out = self._a(x)
        if low is not None:
            out = np.maximum(out, self._a(low))
        if high is not None:
            out = np.minimum(out, self._a(high))
        return out

    def floor(self, x: Array) -> Array:
        """Round toward minus infinity."""
        return np.floor(self._a(x))

    def zeros_like(self, x: Array) -> Array:
        """Zeros of ``x``'s shape, in this dtype."""
        return np.zeros(np.shape(x), dtype=self.dtype)

    def full_like(self, x: Array, value: Array | float) -> Array:
        """``value`` broadcast to ``x``'s shape, in this dtype."""
        return np.full(np.shape(x), self._a(value), dtype=self.dtype)

    def asarray(self, x: Any) -> Array:
        """``x`` as a numpy array of this dtype (no copy when it already is one)."""
        return self._a(x)

    def sum(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Sum over ``axis`` (all axes when ``None``), accumulated in this dtype."""
        return np.asarray(np.sum(self._a(x), axis=axis, dtype=self.dtype))

    def mean(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Mean over ``axis`` (all axes when ``None``), accumulated in this dtype."""
        return np.asarray(np.mean(self._a(x), axis=axis, dtype=self.dtype))

    def stop_gradient(self, x: Array) -> Array:
        """``x`` itself (numpy has no gradients), in this dtype."""
        return self._a(x)

    def normal(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Standard normal samples ``shape`` from ``key`` (an integer or a sequence of them).

        Samples are drawn in float64 and rounded, so a float32 run sees the float64 run's numbers.
        """
        return self._generator(key, "normal").standard_normal(shape).astype(self.dtype)

    def uniform(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Uniform samples in ``[0, 1)`` of ``shape`` from ``key`` (an integer or a sequence).

        Samples are drawn in float64 and rounded down to stay below 1 after rounding to float32.
        """
        u = self._generator(key, "uniform").random(shape).astype(self.dtype)
        below_one = np.nextafter(self.dtype.type(1), self.dtype.type(0))
        return np.minimum(u, below_one)

    def _generator(self, key: Any, what: str) -> np.random.Generator:
        if key is None:
            raise EngineError(
                f"ops.{what} needs a random key and got None; pass ctx.key, which the engine "
                "sets for every component and step"
            )
        try:
            entropy: Sequence[int] = [int(k) for k in np.ravel(np.asarray(key))]
            seq = np.random.SeedSequence(entropy)
        except (TypeError, ValueError) as exc:
            raise EngineError(
                f"ops.{what}: the key must be non-negative integers, e.g. (seed, step, "
                f"component); got {key!r}"
            ) from exc
        return np.random.Generator(np.random.PCG64(seq))
