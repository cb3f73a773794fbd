"""The ``ops`` object a portable ``step`` is written against.

A backend supplies one ``Ops`` per compiled network. Arrays are the backend's own (numpy arrays,
torch tensors, jax arrays); a ``step`` never looks at their type. Every operation is elementwise
with numpy broadcasting unless its docstring says otherwise. A ``step`` may branch on options and
parameters given as Python numbers, never on array values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Array", "Ops", "StepContext", "SurrogateFn"]

#: A backend array (numpy ``ndarray``, ``torch.Tensor``, ``jax.Array``...).
Array = Any


class SurrogateFn(Protocol):
    """A surrogate gradient bound to its parameters: ``d spike / d x`` as a function of ``x``."""

    @property
    def name(self) -> str:
        """The surrogate's registry name."""
        ...

    def derivative(self, ops: Ops, x: Array) -> Array:
        """The pseudo-derivative of the Heaviside step at ``x`` (same shape as ``x``)."""
        ...


@runtime_checkable
class Ops(Protocol):
    """Operations a backend supplies to portable ``step`` functions.

    ``xp`` is the backend's array namespace (``numpy``, ``torch``, ``jax.numpy``) for anything not
    listed here; portable models in the standard library use only the listed methods, so that
    every backend agrees exactly.
    """

    xp: Any
    dtype: Any

    def spike(self, x: Array, surrogate: SurrogateFn) -> Array:
        """Heaviside step ``1.0 where x > 0 else 0.0`` (strict), in the array's dtype.

        Its gradient, where the backend differentiates, is ``surrogate.derivative(ops, x)``.
        """
        ...

    def exp(self, x: Array) -> Array:
        """``e ** x``."""
        ...

    def log(self, x: Array) -> Array:
        """Natural logarithm."""
        ...

    def abs(self, x: Array) -> Array:
        """Absolute value."""
        ...

    def sqrt(self, x: Array) -> Array:
        """Square root."""
        ...

    def tanh(self, x: Array) -> Array:
        """Hyperbolic tangent."""
        ...

    def sigmoid(self, x: Array) -> Array:
        """Logistic function ``1 / (1 + e ** -x)``."""
        ...

    def where(self, cond: Array, a: Array | float, b: Array | float) -> Array:
        """``a`` where ``cond`` is true, else ``b``."""
        ...

    def maximum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise maximum."""
        ...

    def minimum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise minimum."""
        ...

    def clip(self, x: Array, low: Array | float | None, high: Array | float | None) -> Array:
        """``x`` limited to ``[low, high]`` (``None``: no limit on that side)."""
        ...

    def floor(self, x: Array) -> Array:
        """Round toward minus infinity."""
        ...

    def zeros_like(self, x: Array) -> Array:
        """Zeros of ``x``'s shape and dtype."""
        ...

    def full_like(self, x: Array, value: Array | float) -> Array:
        """``value`` broadcast to ``x``'s shape, in ``x``'s dtype."""
        ...

    def asarray(self, x: Any) -> Array:
        """``x`` as an array of this backend's dtype and device."""
        ...

    def sum(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Sum over ``axis`` (all axes when ``None``)."""
        ...

    def mean(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Mean over ``axis`` (all axes when ``None``)."""
        ...

    def stop_gradient(self, x: Array) -> Array:
        """``x``, with no gradient flowing through it."""
        ...

    def normal(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Standard normal samples drawn from the engine-supplied ``key`` (deterministic)."""
        ...

    def uniform(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Uniform samples in ``[0, 1)`` drawn from the engine-supplied ``key`` (deterministic)."""
        ...


@dataclass(frozen=True)
class StepContext:
    """What a ``step`` knows besides its arrays.

    Attributes:
        dt: The time step in seconds (a Python float, fixed for the whole simulation).
        surrogate: The surrogate gradient of the population (neurons only; ``None`` elsewhere).
        key: An opaque random key for this component and step, or ``None`` when the engine runs
            without randomness. Use it only through ``ops.normal`` / ``ops.uniform``.
    """

    dt: float
    surrogate: SurrogateFn | None = None
    key: Any = None
