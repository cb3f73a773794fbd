"""The jax :class:`~neuropil.Ops`: what portable ``step`` functions compute with on jax.

Every result is a ``jax.Array`` of the engine's dtype. Arguments are cast to that dtype before
computing, as the reference engine's ``NumpyOps`` does, so that Python floats and float64
parameters never upcast float32 state. ``spike`` is a ``jax.custom_jvp`` function: the forward
pass is the strict Heaviside step, the derivative is the population's surrogate (which works for
both forward- and reverse-mode differentiation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from neuropil._ops import Array, SurrogateFn
from neuropil.errors import EngineError

__all__ = ["JaxOps", "StepKey"]

_SUPPORTED = ("float32", "float64")


@dataclass(frozen=True)
class StepKey:
    """The random key the engine passes as ``ctx.key``: ``(seed, step, component)``.

    ``step`` may be a traced integer (inside ``lax.scan``). The jax key is derived only when a
    model asks for random numbers (``ops.normal`` / ``ops.uniform``), so deterministic models
    pay nothing for it.
    """

    seed: int
    step: Any
    component: int

    def jax_key(self) -> jax.Array:
        """``fold_in(fold_in(PRNGKey(seed), step), component)``."""
        key = jax.random.fold_in(jax.random.PRNGKey(self.seed), self.step)
        return jax.random.fold_in(key, self.component)


class JaxOps:
    """The ``ops`` of the jax engine: ``jax.numpy`` in one floating dtype.

    Args:
        dtype: ``"float32"`` or ``"float64"`` (float64 needs ``jax_enable_x64``, which
            :meth:`neuropil_jax.JaxBackend.compile` switches on when asked for float64).

    Attributes:
        xp: The ``jax.numpy`` module.
        dtype: The jax dtype of every array this object returns.

    Example::

        ops = JaxOps("float32")
        ops.spike(v - 1.0, surrogate)   # [B, N] of 0.0 / 1.0, surrogate gradient
    """

    xp: Any = jnp

    def __init__(self, dtype: str = "float32") -> None:
        if str(dtype) not in _SUPPORTED:
            raise EngineError(
                f"JaxOps computes in float32 or float64, got {dtype!r}; "
                "pass dtype='float32' or dtype='float64'"
            )
        if str(dtype) == "float64" and not jax.config.read("jax_enable_x64"):  # type: ignore[no-untyped-call]
            raise EngineError(
                "JaxOps('float64') needs 64-bit jax: call "
                "jax.config.update('jax_enable_x64', True) first (JaxBackend.compile does it "
                "for dtype='float64')"
            )
        self.dtype: Any = jnp.dtype(str(dtype))
        # One custom_jvp function per surrogate object, so that jit sees the same function.
        self._spikes: dict[int, tuple[SurrogateFn, Callable[[jax.Array], jax.Array]]] = {}

    def __repr__(self) -> str:
        return f"JaxOps({self.dtype.name!r})"

    def _a(self, x: Any) -> jax.Array:
        return jnp.asarray(x, dtype=self.dtype)

    def _spike_fn(self, surrogate: SurrogateFn) -> Callable[[jax.Array], jax.Array]:
        known = self._spikes.get(id(surrogate))
        if known is not None and known[0] is surrogate:
            return known[1]

        @jax.custom_jvp
        def spike(x: jax.Array) -> jax.Array:
            return (x > 0).astype(x.dtype)

        @spike.defjvp
        def _spike_jvp(
            primals: tuple[jax.Array], tangents: tuple[jax.Array]
        ) -> tuple[jax.Array, jax.Array]:
            (x,), (dx,) = primals, tangents
            return spike(x), self._a(surrogate.derivative(self, x)) * dx

        self._spikes[id(surrogate)] = (surrogate, spike)
        return spike

    def spike(self, x: Array, surrogate: SurrogateFn | None) -> Array:
        """``1.0`` where ``x > 0`` else ``0.0`` (strict); gradient ``surrogate.derivative``.

        Without a surrogate the step has a zero gradient.
        """
        a = self._a(x)
        if surrogate is None:
            return jax.lax.stop_gradient((a > 0).astype(self.dtype))
        return self._spike_fn(surrogate)(a)

    def exp(self, x: Array) -> Array:
        """``e ** x``."""
        return jnp.exp(self._a(x))

    def log(self, x: Array) -> Array:
        """Natural logarithm."""
        return jnp.log(self._a(x))

    def abs(self, x: Array) -> Array:
        """Absolute value."""
        return jnp.abs(self._a(x))

    def sqrt(self, x: Array) -> Array:
        """Square root."""
        return jnp.sqrt(self._a(x))

    def tanh(self, x: Array) -> Array:
        """Hyperbolic tangent."""
        return jnp.tanh(self._a(x))

    def sigmoid(self, x: Array) -> Array:
        """Logistic function ``1 / (1 + e ** -x)``, the same two-branch form as the reference."""
        a = self._a(x)
        e = jnp.exp(-jnp.abs(a))
        return jnp.where(a >= 0, 1 / (1 + e), e / (1 + e))

    def where(self, cond: Array, a: Array | float, b: Array | float) -> Array:
        """``a`` where ``cond`` is true, else ``b``."""
        return jnp.where(jnp.asarray(cond, dtype=bool), self._a(a), self._a(b))

    def maximum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise maximum."""
        return jnp.maximum(self._a(a), self._a(b))

    def minimum(self, a: Array | float, b: Array | float) -> Array:
        """Elementwise minimum."""
        return jnp.minimum(self._a(a), self._a(b))

    def clip(self, x: Array, low: Array | float | None, high: Array | float | None) -> Array:
        """``x`` limited to ``[low, high]`` (``None``: no limit on that side)."""
        out = self._a(x)
        if low is not None:
            out = jnp.maximum(out, self._a(low))
        if high is not None:
            out = jnp.minimum(out, self._a(high))
        return out

    def floor(self, x: Array) -> Array:
        """Round toward minus infinity."""
        return jnp.floor(self._a(x))

    def zeros_like(self, x: Array) -> Array:
        """Zeros of ``x``'s shape, in this dtype."""
        return jnp.zeros(jnp.shape(x), dtype=self.dtype)

    def full_like(self, x: Array, value: Array | float) -> Array:
        """``value`` broadcast to ``x``'s shape, in this dtype."""
        return jnp.broadcast_to(self._a(value), jnp.shape(x))

    def asarray(self, x: Any) -> Array:
        """``x`` as a jax array of this dtype."""
        return self._a(x)

    def sum(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Sum over ``axis`` (all axes when ``None``), accumulated in this dtype."""
        return jnp.sum(self._a(x), axis=axis, dtype=self.dtype)

    def mean(self, x: Array, axis: int | tuple[int, ...] | None = None) -> Array:
        """Mean over ``axis`` (all axes when ``None``), accumulated in this dtype."""
        return jnp.mean(self._a(x), axis=axis, dtype=self.dtype)

    def stop_gradient(self, x: Array) -> Array:
        """``x`` with no gradient flowing through it."""
        return jax.lax.stop_gradient(self._a(x))

    def normal(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Standard normal samples of ``shape`` from ``key`` (a :class:`StepKey` or jax key).

        jax's generator is not numpy's: stochastic models are deterministic for a seed on this
        backend but draw different numbers than on the reference engine.
        """
        return jax.random.normal(self._key(key, "normal"), shape, dtype=self.dtype)

    def uniform(self, key: Any, shape: tuple[int, ...]) -> Array:
        """Uniform samples in ``[0, 1)`` of ``shape`` from ``key`` (see :meth:`normal`)."""
        return jax.random.uniform(self._key(key, "uniform"), shape, dtype=self.dtype)

    def _key(self, key: Any, what: str) -> jax.Array:
        if key is None:
            raise EngineError(
                f"ops.{what} needs a random key and got None; pass ctx.key, which the engine "
                "sets for every component and step"
            )
        if isinstance(key, StepKey):
            return key.jax_key()
        if isinstance(key, int | np.integer):
            return jax.random.PRNGKey(int(key))
        return jnp.asarray(key)
